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
        let mut draw = |d_in: usize, d_out: usize| {
            let k = 1.0 / (d_in as f32).sqrt();
            let w: Vec<f32> = (0..d_in * d_out).map(|_| uniform(k)).collect();
            let b: Vec<f32> = (0..d_out).map(|_| uniform(k)).collect();
            (w, b)
        };
        let (hidden_w, hidden_b) = draw(inputs, HIDDEN);
        let (out_w, out_b) = draw(HIDDEN, 1);
        Self::from_weights(&Weights { inputs, hidden_w, hidden_b, out_w, out_b }, device)
    }

    fn from_weights(w: &Weights, device: &Device) -> Self {
        let layer = |d_in: usize, d_out: usize, weight: &[f32], bias: &[f32]| {
            let mut l = LinearConfig::new(d_in, d_out).init(device);
            l.weight = Param::from_tensor(Tensor::from_data(
                TensorData::new(weight.to_vec(), [d_in, d_out]),
                device,
            ));
            l.bias =
                Some(Param::from_tensor(Tensor::from_data(TensorData::new(bias.to_vec(), [d_out]), device)));
            l
        };
        Self {
            hidden: layer(w.inputs, HIDDEN, &w.hidden_w, &w.hidden_b),
            out: layer(HIDDEN, 1, &w.out_w, &w.out_b),
            act: Relu::new(),
        }
    }

    fn weights(&self) -> Weights {
        let values = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().expect("f32 weights");
        let bias = |l: &Linear| {
            l.bias
                .as_ref()
                .expect("layers have biases")
                .val()
                .into_data()
                .try_to_vec::<f32>()
                .expect("f32 biases")
        };
        Weights {
            inputs: self.hidden.weight.val().dims()[0],
            hidden_w: values(self.hidden.weight.val()),
            hidden_b: bias(&self.hidden),
            out_w: values(self.out.weight.val()),
            out_b: bias(&self.out),
        }
    }

    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(self.act.forward(self.hidden.forward(x)))
    }
}

/// The network's weights as plain numbers, in the standardised target space (before the
/// output layer takes VMAF's scale back).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    pub inputs: usize,
    pub hidden_w: Vec<f32>,
    pub hidden_b: Vec<f32>,
    pub out_w: Vec<f32>,
    pub out_b: Vec<f32>,
}

impl Weights {
    /// `self ← decay·self + (1 − decay)·live`, value by value.
    fn average_in(&mut self, live: &Weights, decay: f32) {
        let mix = |a: &mut Vec<f32>, b: &[f32]| {
            a.iter_mut().zip(b).for_each(|(a, b)| *a = decay * *a + (1.0 - decay) * b)
        };
        mix(&mut self.hidden_w, &live.hidden_w);
        mix(&mut self.hidden_b, &live.hidden_b);
        mix(&mut self.out_w, &live.out_w);
        mix(&mut self.out_b, &live.out_b);
    }
}

/// How to fit.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    pub epochs: usize,
    pub learning_rate: f64,
    pub seed: u64,
    /// Decay of the exponential moving average of the weights taken after each step; the
    /// average is the model that is exported. 0: the last step's weights.
    pub ema_decay: f32,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self { epochs: 2000, learning_rate: 0.01, seed: 1, ema_decay: 0.0 }
    }
}

/// Training carried from one fit to the next (online training): the live weights Adam moves,
/// their moving average, and the target scale, fixed at the first fit so that weights keep
/// their meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct Online {
    pub live: Weights,
    pub ema: Weights,
    pub mu: f32,
    pub sigma: f32,
    /// Adam steps taken so far, over every fit.
    pub steps: u64,
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

/// Fits `rows` (normalised features) to `targets` from seeded weights; see [`fit_from`].
pub fn fit(rows: &[Vec<f32>], targets: &[f32], opts: FitOptions) -> Fitted {
    fit_from(rows, targets, None, opts).0
}

/// Fits `rows` (normalised features) to `targets` by full-batch Adam on the mean squared
/// error, from `start`'s weights when given (else seeded ones), keeping an exponential moving
/// average of the weights after every step; the model returned is the average. The targets
/// are standardised for training (Adam's steps are about the learning rate in size, too small
/// to reach VMAF's scale) — by `start`'s scale when given — and the output layer then takes
/// the scale back exactly: `w' = w·σ`, `b' = b·σ + μ`, so the model gives VMAF points.
pub fn fit_from(
    rows: &[Vec<f32>],
    targets: &[f32],
    start: Option<&Online>,
    opts: FitOptions,
) -> (Fitted, Online) {
    assert!(!rows.is_empty() && rows.len() == targets.len());
    let inputs = rows[0].len();
    let count = targets.len() as f32;
    let (mu, sigma) = match start {
        Some(s) => (s.mu, s.sigma),
        None => {
            let mu = targets.iter().sum::<f32>() / count;
            (mu, (targets.iter().map(|t| (t - mu).powi(2)).sum::<f32>() / count).sqrt().max(1e-3))
        }
    };
    let standard: Vec<f32> = targets.iter().map(|t| (t - mu) / sigma).collect();
    let device = Device::default().autodiff();
    let x = tensor(rows, &device);
    let y = Tensor::<2>::from_data(TensorData::new(standard, [targets.len(), 1]), &device);
    let mut model = match start {
        Some(s) => Mlp::from_weights(&s.live, &device),
        None => Mlp::new(inputs, opts.seed, &device),
    };
    let mut ema = start.map_or_else(|| model.weights(), |s| s.ema.clone());
    let mut optim = AdamConfig::new().init();
    for _ in 0..opts.epochs {
        let loss = (model.forward(x.clone()) - y.clone()).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(opts.learning_rate, model, grads);
        ema.average_in(&model.weights(), opts.ema_decay);
    }
    let online = Online {
        live: model.weights(),
        ema: ema.clone(),
        mu,
        sigma,
        steps: start.map_or(0, |s| s.steps) + opts.epochs as u64,
    };
    let mut model = Mlp::from_weights(&ema, &Device::default());
    model.out.weight = Param::from_tensor(model.out.weight.val().mul_scalar(sigma));
    let bias = model.out.bias.take().expect("the output layer has a bias");
    model.out.bias = Some(Param::from_tensor(bias.val().mul_scalar(sigma).add_scalar(mu)));
    (Fitted { model, inputs }, online)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, shift: f32) -> (Vec<Vec<f32>>, Vec<f32>) {
        let rows: Vec<Vec<f32>> =
            (0..n).map(|i| vec![i as f32 / n as f32 * 2.0 - 1.0, ((i * 7) % n) as f32 / n as f32]).collect();
        let y = rows.iter().map(|r| 60.0 + 20.0 * r[0] - 10.0 * r[1] * r[1] + shift).collect();
        (rows, y)
    }

    fn rmse(f: &Fitted, rows: &[Vec<f32>], y: &[f32]) -> f32 {
        let p = f.predict(rows);
        (p.iter().zip(y).map(|(a, b)| (a - b).powi(2)).sum::<f32>() / y.len() as f32).sqrt()
    }

    #[test]
    fn a_warm_fit_continues_the_weights_and_their_average() {
        let (rows, y) = data(64, 0.0);
        let opts = FitOptions { epochs: 150, ema_decay: 0.99, ..FitOptions::default() };
        let (first, state) = fit_from(&rows, &y, None, opts);
        assert_eq!(state.steps, 150);
        // Without averaging, the exported model is the live weights.
        let (_, plain) = fit_from(&rows, &y, None, FitOptions { ema_decay: 0.0, ..opts });
        assert_eq!(plain.ema, plain.live);
        assert_ne!(state.ema, state.live, "the average lags the last step");

        // More steps from there, on data that moved: the same target scale, better fit to it.
        let (rows2, y2) = data(64, 5.0);
        let (second, carried) = fit_from(&rows2, &y2, Some(&state), opts);
        assert_eq!((carried.steps, carried.mu, carried.sigma), (300, state.mu, state.sigma));
        assert!(rmse(&second, &rows2, &y2) < rmse(&first, &rows2, &y2), "the warm fit follows the new data");
        // It started where the first stopped: far closer after 150 steps than a cold start is.
        let (cold, _) = fit_from(&rows2, &y2, None, FitOptions { epochs: 20, ..opts });
        let (warm, _) = fit_from(&rows2, &y2, Some(&state), FitOptions { epochs: 20, ..opts });
        assert!(
            rmse(&warm, &rows2, &y2) < rmse(&cold, &rows2, &y2),
            "warm {} cold {}",
            rmse(&warm, &rows2, &y2),
            rmse(&cold, &rows2, &y2)
        );
    }
}
