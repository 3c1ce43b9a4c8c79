//! The model and its training: a small multilayer perceptron (features → 16 ReLU units →
//! estimate) fitted with Adam on normalised features, in burn on the CPU; exported to ONNX
//! with a dynamic batch axis.
//!
//! Weights start from a seeded generator of our own, so a fit is repeatable from its seed.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use burn_onnx::export::{AxisSpec, InputSpec, OnnxExporter};

/// Hidden units.
pub const HIDDEN: usize = 16;

#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Linear,
    out: Linear,
    act: Relu,
}

impl Mlp {
    /// Weights drawn from `U(-k, k)`, `k = 1/sqrt(inputs)`, by a splitmix64 sequence from `seed`.
    fn new(inputs: usize, seed: u64, device: &Device) -> Self {
        let mut state = seed;
        let mut uniform = |k: f32| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * k
        };
        let mut layer = |d_in: usize, d_out: usize| {
            let k = 1.0 / (d_in as f32).sqrt();
            let mut l = LinearConfig::new(d_in, d_out).init(device);
            let w: Vec<f32> = (0..d_in * d_out).map(|_| uniform(k)).collect();
            let b: Vec<f32> = (0..d_out).map(|_| uniform(k)).collect();
            l.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [d_in, d_out]), device));
            l.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(b, [d_out]), device)));
            l
        };
        Self { hidden: layer(inputs, HIDDEN), out: layer(HIDDEN, 1), act: Relu::new() }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(self.act.forward(self.hidden.forward(x)))
    }
}

/// How to fit.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    pub epochs: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self { epochs: 2000, learning_rate: 0.01, seed: 1 }
    }
}

/// A fitted model, ready to estimate and export (its inputs already normalised).
pub struct Fitted {
    model: Mlp,
    inputs: usize,
}

fn tensor(rows: &[Vec<f32>], device: &Device) -> Tensor<2> {
    let n = rows.first().map_or(0, Vec::len);
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), n]), device)
}

/// Fits `rows` (normalised features) to `targets` by full-batch Adam on the mean squared
/// error. The targets are standardised for training (Adam's steps are about the learning
/// rate in size, too small to reach VMAF's scale), and the output layer then takes the
/// scale back exactly: `w' = w·σ`, `b' = b·σ + μ`, so the model gives VMAF points.
pub fn fit(rows: &[Vec<f32>], targets: &[f32], opts: FitOptions) -> Fitted {
    assert!(!rows.is_empty() && rows.len() == targets.len());
    let inputs = rows[0].len();
    let count = targets.len() as f32;
    let mu = targets.iter().sum::<f32>() / count;
    let sigma = (targets.iter().map(|t| (t - mu).powi(2)).sum::<f32>() / count).sqrt().max(1e-3);
    let standard: Vec<f32> = targets.iter().map(|t| (t - mu) / sigma).collect();
    let device = Device::default().autodiff();
    let x = tensor(rows, &device);
    let y = Tensor::<2>::from_data(TensorData::new(standard, [targets.len(), 1]), &device);
    let mut model = Mlp::new(inputs, opts.seed, &device);
    let mut optim = AdamConfig::new().init();
    for _ in 0..opts.epochs {
        let loss = (model.forward(x.clone()) - y.clone()).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(opts.learning_rate, model, grads);
    }
    let mut model = model.valid();
    model.out.weight = Param::from_tensor(model.out.weight.val().mul_scalar(sigma));
    let bias = model.out.bias.take().expect("the output layer has a bias");
    model.out.bias = Some(Param::from_tensor(bias.val().mul_scalar(sigma).add_scalar(mu)));
    Fitted { model, inputs }
}

impl Fitted {
    /// Estimates for normalised `rows`, as burn computes them.
    pub fn predict(&self, rows: &[Vec<f32>]) -> Vec<f32> {
        if rows.is_empty() {
            return Vec::new();
        }
        let out = self.model.forward(tensor(rows, &Device::default()));
        out.into_data().try_to_vec::<f32>().expect("f32 estimates")
    }

    /// The model as ONNX, batch axis dynamic (`[n, inputs]` → `[n, 1]`).
    pub fn to_onnx(&self) -> anyhow::Result<Vec<u8>> {
        let device = Device::default();
        let sample = Tensor::<2>::zeros([2, self.inputs], &device);
        let validation = Tensor::<2>::zeros([3, self.inputs], &device);
        let spec = InputSpec::new(vec![AxisSpec::dynamic("n"), AxisSpec::Static]);
        let onnx = OnnxExporter::new()
            .export_dynamic(&self.model, sample, validation, &[spec], Mlp::forward)
            .map_err(|e| anyhow::anyhow!("exporting ONNX: {e:?}"))?;
        Ok(onnx.as_bytes().to_vec())
    }
}
