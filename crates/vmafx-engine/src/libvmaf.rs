//! A thin safe layer over libvmaf's C API (`vmaf-head-sys`).
//!
//! Ownership follows libvmaf's rules: a [`Picture`] handed to [`Context::read_pictures`] is
//! consumed (libvmaf unrefs it when its extractors are done); one not handed over is unref'd
//! on drop. A [`Context`] is used from one thread at a time; its extractors run on libvmaf's
//! own thread pool.

use std::ffi::{CStr, CString};
use std::io::Read;
use std::os::fd::FromRawFd;
use std::path::Path;
use std::ptr;
use std::sync::Arc;

use vmaf_head_sys as sys;
use vmafx_media::{Chroma, PlaneMut, VideoFormat};

use crate::error::EngineError;

fn check(op: &'static str, code: i32) -> Result<(), EngineError> {
    if code < 0 {
        Err(EngineError::Libvmaf { op, code })
    } else {
        Ok(())
    }
}

/// libvmaf's version string.
pub fn version() -> String {
    // SAFETY: vmaf_version returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::vmaf_version()) }.to_string_lossy().into_owned()
}

fn vmaf_pix_fmt(chroma: Chroma) -> sys::VmafPixelFormat {
    match chroma {
        Chroma::C420 => sys::VmafPixelFormat_VMAF_PIX_FMT_YUV420P,
        Chroma::C422 => sys::VmafPixelFormat_VMAF_PIX_FMT_YUV422P,
        Chroma::C444 => sys::VmafPixelFormat_VMAF_PIX_FMT_YUV444P,
    }
}

/// A picture allocated by libvmaf, filled by the caller.
pub struct Picture {
    pic: sys::VmafPicture,
    /// For a picture from a [`PicturePool`]: keeps the context (which owns the pool) alive
    /// until the picture is returned.
    _pool: Option<Arc<Handle>>,
}

// SAFETY: the picture owns its buffers (ref-counted by libvmaf with atomics); moving it to
// another thread before it is handed to libvmaf is sound.
unsafe impl Send for Picture {}

impl Picture {
    pub fn alloc(format: VideoFormat) -> Result<Self, EngineError> {
        let pix_fmt = vmaf_pix_fmt(format.pix_fmt.chroma);
        // SAFETY: an all-zero VmafPicture is the "empty" state libvmaf expects before alloc.
        let mut pic: sys::VmafPicture = unsafe { std::mem::zeroed() };
        // SAFETY: `pic` is a valid out-pointer; libvmaf validates the other arguments.
        let code = unsafe {
            sys::vmaf_picture_alloc(
                &mut pic,
                pix_fmt,
                format.pix_fmt.bit_depth as u32,
                format.width,
                format.height,
            )
        };
        check("vmaf_picture_alloc", code)?;
        Ok(Self { pic, _pool: None })
    }

    /// The three planes as writable rows (`stride` bytes apart).
    pub fn planes_mut(&mut self) -> [PlaneMut<'_>; 3] {
        let p = &mut self.pic;
        let bytes = if p.bpc > 8 { 2 } else { 1 };
        let plane = |i: usize| {
            let (stride, rows) = (p.stride[i] as usize, p.h[i] as usize);
            // SAFETY: libvmaf allocated `h[i]` rows of `stride[i]` bytes for plane i; the three
            // planes do not overlap and `self` is borrowed mutably for the slices' lifetime.
            let data = unsafe { std::slice::from_raw_parts_mut(p.data[i] as *mut u8, stride * rows) };
            PlaneMut { data, stride, row_bytes: p.w[i] as usize * bytes, rows }
        };
        [plane(0), plane(1), plane(2)]
    }

    /// The three planes, to read.
    pub fn planes(&self) -> [vmafx_media::downscale::Plane<'_>; 3] {
        let p = &self.pic;
        let plane = |i: usize| {
            let (stride, rows) = (p.stride[i] as usize, p.h[i] as usize);
            // SAFETY: libvmaf allocated `h[i]` rows of `stride[i]` bytes for plane i, and
            // `self` is borrowed for the slices' lifetime.
            let data = unsafe { std::slice::from_raw_parts(p.data[i] as *const u8, stride * rows) };
            vmafx_media::downscale::Plane { data, stride, width: p.w[i] as usize, height: rows }
        };
        [plane(0), plane(1), plane(2)]
    }

    /// The alignment signature of the luma plane ([`vmafx_media::sync`]).
    pub fn signature(&self) -> vmafx_media::sync::Signature {
        let p = &self.pic;
        let (stride, rows) = (p.stride[0] as usize, p.h[0] as usize);
        // SAFETY: libvmaf allocated `h[0]` rows of `stride[0]` bytes for the luma plane, and
        // `self` is borrowed for the slice's lifetime.
        let data = unsafe { std::slice::from_raw_parts(p.data[0] as *const u8, stride * rows) };
        let bytes = if p.bpc > 8 { 2 } else { 1 };
        vmafx_media::sync::Signature::of_luma(data, stride, p.w[0] as usize, rows, bytes, p.bpc as u8)
    }

    fn into_raw(self) -> sys::VmafPicture {
        let mut this = std::mem::ManuallyDrop::new(self);
        // The pool handle can go: the caller is handing the picture to the live context.
        drop(this._pool.take());
        this.pic
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: the picture came from vmaf_picture_alloc or the pool and was not handed to
        // libvmaf; unref frees it or returns it to the pool (whose context `_pool` keeps alive
        // until after this runs).
        unsafe { sys::vmaf_picture_unref(&mut self.pic) };
    }
}

/// libvmaf's pool of preallocated pictures: pictures return to it when libvmaf is done with
/// them, so frames reuse the same memory instead of a fresh allocation, page faults and
/// zeroing each. Fetching blocks while every picture is in use, which also bounds how far
/// decoders can run ahead.
#[derive(Clone)]
pub struct PicturePool {
    handle: Arc<Handle>,
}

impl PicturePool {
    pub fn fetch(&self) -> Result<Picture, EngineError> {
        // SAFETY: an all-zero VmafPicture is the empty state; fetch fills it.
        let mut pic: sys::VmafPicture = unsafe { std::mem::zeroed() };
        // SAFETY: the context is alive (we hold its handle) and has a pool; fetching is
        // thread-safe (libvmaf locks the pool).
        check("vmaf_fetch_preallocated_picture", unsafe {
            sys::vmaf_fetch_preallocated_picture(self.handle.0, &mut pic)
        })?;
        Ok(Picture { pic, _pool: Some(Arc::clone(&self.handle)) })
    }
}

/// A loaded VMAF model.
pub struct Model {
    ptr: *mut sys::VmafModel,
    /// For a bootstrapped model (`vmaf_b_v0.6.3`): the other models of the collection, whose
    /// spread gives a confidence interval around the score.
    collection: *mut sys::VmafModelCollection,
}

// SAFETY: a model is immutable after loading; libvmaf reads it from the scoring thread only.
unsafe impl Send for Model {}

/// Name under which the model's per-frame score is stored and printed.
const MODEL_SCORE_NAME: &CStr = c"vmaf";

/// How a model is found: by built-in version or by file.
enum Source<'a> {
    Builtin(&'a CStr),
    File(&'a CStr),
}

impl Model {
    /// Loads a model compiled into libvmaf.
    pub fn builtin(version: &str) -> Result<Self, EngineError> {
        let unknown =
            || EngineError::UnknownModel { name: version.into(), valid: vmafx_core::catalog::model_names() };
        let c_version = CString::new(version).map_err(|_| unknown())?;
        Self::load(Source::Builtin(&c_version)).map_err(|_| unknown())
    }

    /// Loads a model (or bootstrapped model collection) from a JSON file.
    pub fn from_path(path: &Path) -> Result<Self, EngineError> {
        let fail = |reason: String| EngineError::ModelFile { path: path.into(), reason };
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("not a file".into()));
        }
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| fail("path contains NUL".into()))?;
        Self::load(Source::File(&c_path))
            .map_err(|code| fail(format!("libvmaf could not parse it as a VMAF model (error {code})")))
    }

    /// Tries a single model first, then a bootstrapped collection (libvmaf keeps both kinds
    /// under one name space but loads them through different calls).
    fn load(source: Source<'_>) -> Result<Self, i32> {
        let mut cfg = sys::VmafModelConfig { name: MODEL_SCORE_NAME.as_ptr(), flags: 0 };
        let mut ptr = ptr::null_mut();
        // SAFETY: valid out-pointers, config and NUL-terminated strings for every call below.
        let code = unsafe {
            match source {
                Source::Builtin(v) => sys::vmaf_model_load(&mut ptr, &mut cfg, v.as_ptr()),
                Source::File(p) => sys::vmaf_model_load_from_path(&mut ptr, &mut cfg, p.as_ptr()),
            }
        };
        if code == 0 && !ptr.is_null() {
            return Ok(Self { ptr, collection: ptr::null_mut() });
        }
        let mut collection = ptr::null_mut();
        let code = unsafe {
            match source {
                Source::Builtin(v) => {
                    sys::vmaf_model_collection_load(&mut ptr, &mut collection, &mut cfg, v.as_ptr())
                }
                Source::File(p) => {
                    sys::vmaf_model_collection_load_from_path(&mut ptr, &mut collection, &mut cfg, p.as_ptr())
                }
            }
        };
        if code == 0 && !ptr.is_null() && !collection.is_null() {
            return Ok(Self { ptr, collection });
        }
        Err(code)
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: loaded above and destroyed once; the collection does not own `ptr`.
        unsafe {
            sys::vmaf_model_destroy(self.ptr);
            if !self.collection.is_null() {
                sys::vmaf_model_collection_destroy(self.collection);
            }
        }
    }
}

/// Owner of a `VmafContext` pointer; closes it when the last holder goes.
struct Handle(*mut sys::VmafContext);

// SAFETY: the context is driven through `Context` (`&mut self`) from one thread at a time;
// other holders of the handle (pool pictures, `PicturePool`) only fetch from or return to the
// picture pool, which libvmaf locks.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: created by vmaf_init, closed once; vmaf_close waits for its workers.
        unsafe { sys::vmaf_close(self.0) };
    }
}

/// A libvmaf scoring context.
pub struct Context {
    handle: Arc<Handle>,
    ptr: *mut sys::VmafContext,
}

// SAFETY: see `Handle`; the raw `ptr` is the handle's pointer, used only through `&mut self`.
unsafe impl Send for Context {}

/// libvmaf's `cpumask` (as in its `vmaf --cpumask`): CPU features whose kernels libvmaf
/// leaves unused — on x86 8 = AVX2, 16 = AVX-512, 48 = all AVX-512 (so 56 = only the C
/// code). For comparing libvmaf's kernels with each other (tests/vif_kernels.rs); every
/// mask gives the same scores, only the time differs.
pub const CPUMASK_ENV: &str = "VMAFX_LIBVMAF_CPUMASK";

fn cpumask_from(value: Option<&str>) -> Result<u64, EngineError> {
    match value.map(str::trim) {
        None | Some("") => Ok(0),
        Some(v) => v.parse().map_err(|_| {
            EngineError::InvalidOption(format!(
                "{CPUMASK_ENV}={v}: expected a number (libvmaf's cpumask, e.g. 48 to leave AVX-512 unused)"
            ))
        }),
    }
}

impl Context {
    /// `threads`: libvmaf worker threads (0 = score on the calling thread).
    pub fn new(threads: u32, subsample: u32) -> Result<Self, EngineError> {
        let cpumask = cpumask_from(std::env::var(CPUMASK_ENV).ok().as_deref())?;
        let cfg = sys::VmafConfiguration {
            log_level: sys::VmafLogLevel_VMAF_LOG_LEVEL_NONE,
            n_threads: threads,
            n_subsample: subsample.max(1),
            cpumask,
            gpumask: 0,
        };
        let mut ptr = ptr::null_mut();
        // SAFETY: valid out-pointer.
        check("vmaf_init", unsafe { sys::vmaf_init(&mut ptr, cfg) })?;
        Ok(Self { handle: Arc::new(Handle(ptr)), ptr })
    }

    /// Creates the context's picture pool with `count` pictures of `format`.
    pub fn picture_pool(&mut self, format: VideoFormat, count: u32) -> Result<PicturePool, EngineError> {
        let cfg = sys::VmafPictureConfiguration {
            pic_params: sys::VmafPictureConfiguration__bindgen_ty_1 {
                w: format.width,
                h: format.height,
                bpc: format.pix_fmt.bit_depth as u32,
                pix_fmt: vmaf_pix_fmt(format.pix_fmt.chroma),
            },
            pic_cnt: count,
        };
        // SAFETY: live context; libvmaf validates the configuration.
        check("vmaf_preallocate_pictures", unsafe { sys::vmaf_preallocate_pictures(self.ptr, cfg) })?;
        Ok(PicturePool { handle: Arc::clone(&self.handle) })
    }

    pub fn use_model_features(&mut self, model: &Model) -> Result<(), EngineError> {
        // SAFETY: both pointers are live.
        check("vmaf_use_features_from_model", unsafe {
            sys::vmaf_use_features_from_model(self.ptr, model.ptr)
        })?;
        if !model.collection.is_null() {
            // SAFETY: both pointers are live.
            check("vmaf_use_features_from_model_collection", unsafe {
                sys::vmaf_use_features_from_model_collection(self.ptr, model.collection)
            })?;
        }
        Ok(())
    }

    pub fn use_feature(&mut self, name: &str) -> Result<(), EngineError> {
        let c = CString::new(name)
            .map_err(|_| EngineError::InvalidOption(format!("bad feature name {name:?}")))?;
        // SAFETY: live context, NUL-terminated name, no options dictionary.
        check("vmaf_use_feature", unsafe { sys::vmaf_use_feature(self.ptr, c.as_ptr(), ptr::null_mut()) })
    }

    /// Hands a frame pair to libvmaf; both pictures are consumed.
    pub fn read_pictures(
        &mut self,
        reference: Picture,
        distorted: Picture,
        index: u32,
    ) -> Result<(), EngineError> {
        let (mut r, mut d) = (reference.into_raw(), distorted.into_raw());
        // SAFETY: both pictures come from vmaf_picture_alloc; libvmaf takes ownership.
        check("vmaf_read_pictures", unsafe { sys::vmaf_read_pictures(self.ptr, &mut r, &mut d, index) })
    }

    /// Waits for every queued frame and lets temporal extractors finish.
    pub fn flush(&mut self) -> Result<(), EngineError> {
        // SAFETY: NULL pictures mean "flush" in libvmaf's API.
        check("vmaf_read_pictures(flush)", unsafe {
            sys::vmaf_read_pictures(self.ptr, ptr::null_mut(), ptr::null_mut(), 0)
        })
    }

    /// The model's score at `index` (computed from the collected features, then stored).
    ///
    /// A bootstrapped model also stores its collection's `vmaf_bagging`, `vmaf_stddev` and
    /// `vmaf_ci_p95_lo` / `_hi`.
    pub fn model_score(&mut self, model: &Model, index: u32) -> Result<f64, EngineError> {
        let mut score = 0.0;
        // SAFETY: live pointers, valid out-pointer.
        check("vmaf_score_at_index", unsafe {
            sys::vmaf_score_at_index(self.ptr, model.ptr, &mut score, index)
        })?;
        if !model.collection.is_null() {
            // SAFETY: an all-zero score is a valid out-value; live pointers.
            let mut bootstrap: sys::VmafModelCollectionScore = unsafe { std::mem::zeroed() };
            check("vmaf_score_at_index_model_collection", unsafe {
                sys::vmaf_score_at_index_model_collection(self.ptr, model.collection, &mut bootstrap, index)
            })?;
        }
        Ok(score)
    }

    /// The value libvmaf collected under `key` at `index`, if any.
    pub fn feature_score(&mut self, key: &CStr, index: u32) -> Option<f64> {
        let mut score = 0.0;
        // SAFETY: live context, NUL-terminated key, valid out-pointer.
        let code = unsafe { sys::vmaf_feature_score_at_index(self.ptr, key.as_ptr(), &mut score, index) };
        (code == 0).then_some(score)
    }

    /// libvmaf's own pooled value of `key` over frames `lo..=hi` (tests compare against it).
    pub fn feature_pooled(&mut self, key: &str, method: Pool, lo: u32, hi: u32) -> Result<f64, EngineError> {
        let c = CString::new(key).map_err(|_| EngineError::Internal("NUL in key".into()))?;
        let mut score = 0.0;
        // SAFETY: live context, NUL-terminated key, valid out-pointer.
        check("vmaf_feature_score_pooled", unsafe {
            sys::vmaf_feature_score_pooled(self.ptr, c.as_ptr(), method as u32, &mut score, lo, hi)
        })?;
        Ok(score)
    }

    /// Names of every per-frame value libvmaf has collected, in its output order and
    /// spelling (`integer_adm2`, `psnr_y`, `vmaf`...).
    ///
    /// libvmaf exposes them only through its report writer, so the CSV header is written into
    /// an in-memory file and read back.
    pub fn collected_names(&mut self) -> Result<Vec<String>, EngineError> {
        let internal =
            |what: &str| EngineError::Internal(format!("{what}: {}", std::io::Error::last_os_error()));
        // SAFETY: memfd_create with a static name; the fd is owned by the File below.
        let fd = unsafe { libc::memfd_create(c"vmafx-names".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(internal("memfd_create"));
        }
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
        let path = CString::new(format!("/proc/self/fd/{fd}")).expect("no NUL");
        // SAFETY: live context, NUL-terminated path that libvmaf opens, writes and closes.
        check("vmaf_write_output", unsafe {
            sys::vmaf_write_output(self.ptr, path.as_ptr(), sys::VmafOutputFormat_VMAF_OUTPUT_FORMAT_CSV)
        })?;
        let mut header = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = file.read(&mut buf).map_err(|_| internal("reading libvmaf's report"))?;
            if n == 0 {
                break;
            }
            let end = buf[..n].iter().position(|&b| b == b'\n');
            header.extend_from_slice(&buf[..end.unwrap_or(n)]);
            if end.is_some() {
                break;
            }
        }
        let header = String::from_utf8_lossy(&header);
        Ok(header.split(',').skip(1).filter(|s| !s.is_empty()).map(String::from).collect())
    }
}

/// libvmaf's pooling methods.
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub enum Pool {
    Min = sys::VmafPoolingMethod_VMAF_POOL_METHOD_MIN,
    Max = sys::VmafPoolingMethod_VMAF_POOL_METHOD_MAX,
    Mean = sys::VmafPoolingMethod_VMAF_POOL_METHOD_MEAN,
    HarmonicMean = sys::VmafPoolingMethod_VMAF_POOL_METHOD_HARMONIC_MEAN,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpumask_is_a_number_or_unset() {
        assert_eq!(cpumask_from(None).unwrap(), 0);
        assert_eq!(cpumask_from(Some(" ")).unwrap(), 0);
        assert_eq!(cpumask_from(Some("48")).unwrap(), 48);
        let err = cpumask_from(Some("avx2")).unwrap_err().to_string();
        assert!(err.contains("VMAFX_LIBVMAF_CPUMASK=avx2"), "{err}");
    }
}
