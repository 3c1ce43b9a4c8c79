#!/usr/bin/env python3
"""The crop-correction experiment of docs/models.md ("Tried and dropped: a low-resolution look
at the whole frame to correct the crop"): four spatially uneven 1280x720 sources, x264 at
three CRFs, scored by ffmpeg 9's libvmaf (PyPI imageio-ffmpeg, as `make setup-test`
installs it) on the whole frame, its centre quarter, and both at 1/4 and 1/8 size; prints
each pair's means and, per source, the per-frame RMSE against the whole frame's VMAF of the
crop alone and of crop + (whole small - crop small).

    python3 scripts/research/crop_context.py [WORKDIR]   # about 5 minutes on 2 cores
"""
import json, subprocess, sys, os, math, tempfile
import imageio_ffmpeg
FF=imageio_ffmpeg.get_ffmpeg_exe()
W,H=1280,720
D=sys.argv[1] if len(sys.argv)>1 else tempfile.mkdtemp(prefix="crop-context-")
SRC={
 # letterbox: textured content in the middle, black bars (2.39:1 in 16:9)
 "letterbox": f"cellauto=rule=30:s={W}x536:r=24:seed=3,scroll=h=0.003,pad={W}:{H}:0:92:black",
 # split: grain texture on top, smooth gradient below
 "split": f"gradients=s={W}x{H}:r=24:speed=0.02:c0=0x203040:c1=0xd0a070:seed=2[g];color=c=gray:s={W//8}x{H//2//8}:r=24,noise=alls=100:allf=u,scale={W}x{H//2}:flags=bicubic,noise=alls=20:allf=t,scroll=h=0.004[t];[g][t]overlay=0:0,format=yuv420p",
 # pip: flat background, textured window bottom-right
 "pip": f"color=c=0x305080:s={W}x{H}:r=24[b];color=c=gray:s=40x22:r=24,noise=alls=100:allf=u,scale=480x270:flags=bicubic,noise=alls=25:allf=t,scroll=h=0.01[t];[b][t]overlay=760:420,format=yuv420p",
 # uniform: pebbles everywhere (control)
 "uniform": f"color=c=gray:s={W//4}x{H//4}:r=24,noise=alls=90:allf=u,scale={W}x{H}:flags=bicubic,noise=alls=12:allf=t,scroll=h=-0.004:v=0.001,format=yuv420p",
}
CRFS=["24","34","44"]
def ff(*a): subprocess.run([FF,"-nostdin","-hide_banner","-loglevel","error","-y",*a],check=True)
def vmaf(ref,dist,pre):
    log=f"{D}/log.json"
    fc=f"[0:v]{pre}[d];[1:v]{pre}[r];[d][r]libvmaf=log_path={log}:log_fmt=json:n_threads=2"
    ff("-i",dist,"-i",ref,"-lavfi",fc,"-f","null","-")
    return [f["metrics"]["vmaf"] for f in json.load(open(log))["frames"]]
res={}
for name,src in SRC.items():
    ref=f"{D}/{name}.y4m"
    if not os.path.exists(ref):
        ff("-f","lavfi","-i",src,"-frames:v","48","-pix_fmt","yuv420p","-strict","-1",ref)
    for crf in CRFS:
        dist=f"{D}/{name}_{crf}.mp4"
        if not os.path.exists(dist):
            ff("-i",ref,"-c:v","libx264","-preset","fast","-crf",crf,dist)
        r={}
        r["full"]=vmaf(ref,dist,"null")
        r["crop"]=vmaf(ref,dist,f"crop={W//2}:{H//2}")
        for k in (4,8):
            r[f"whole_lo{k}"]=vmaf(ref,dist,f"scale={W//k}:{H//k}:flags=area")
            r[f"crop_lo{k}"]=vmaf(ref,dist,f"crop={W//2}:{H//2},scale={W//2//k}:{H//2//k}:flags=area")
        res[f"{name}_{crf}"]=r
        m=lambda v:sum(v)/len(v)
        print(name,crf," ".join(f"{k}={m(v):.2f}" for k,v in r.items()),flush=True)
json.dump(res,open(f"{D}/res.json","w"))

def rmse(a,b): return math.sqrt(sum((x-y)**2 for x,y in zip(a,b))/len(a))
for grp in SRC:
    full=[];crop=[];k4=[];k8=[]
    for key,v in res.items():
        if key.rsplit("_",1)[0]!=grp: continue
        full+=v["full"]; crop+=v["crop"]
        k4+=[c+w-l for c,w,l in zip(v["crop"],v["whole_lo4"],v["crop_lo4"])]
        k8+=[c+w-l for c,w,l in zip(v["crop"],v["whole_lo8"],v["crop_lo8"])]
    print(f"{grp}: RMSE crop alone {rmse(crop,full):.2f}, corrected k=4 {rmse(k4,full):.2f}, k=8 {rmse(k8,full):.2f}")
