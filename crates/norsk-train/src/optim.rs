//! AdamW with decoupled weight decay (PyTorch's `torch.optim.AdamW`), fused:
//! one parallel pass over each variable instead of a dozen tensor
//! operations, with global gradient-norm clipping folded in.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use rayon::prelude::*;

/// One variable with its moments and its group's settings.
struct Param {
    var: Var,
    m: Vec<f32>,
    v: Vec<f32>,
    /// Peak learning rate of the variable's group.
    peak_lr: f64,
    weight_decay: f64,
}

/// AdamW over a set of variables, each with its own peak learning rate
/// and weight decay.
pub(crate) struct AdamW {
    params: Vec<Param>,
    step: i32,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

const CHUNK: usize = 1 << 14;

impl AdamW {
    /// `(variable, peak learning rate, weight decay)` triples; β = (0.9,
    /// 0.999), ε = 1e-8 as PyTorch.
    pub fn new(vars: Vec<(Var, f64, f64)>) -> Self {
        let params = vars
            .into_iter()
            .map(|(var, peak_lr, weight_decay)| {
                let n = var.elem_count();
                Param {
                    var,
                    m: vec![0.0; n],
                    v: vec![0.0; n],
                    peak_lr,
                    weight_decay,
                }
            })
            .collect();
        Self {
            params,
            step: 0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// One update with every learning rate scaled by `lr_factor`, after
    /// rescaling the gradients to a global L2 norm of at most `max_norm`
    /// (0: no clipping). Variables without a gradient are left alone.
    /// Returns the gradient norm before clipping.
    pub fn step(
        &mut self,
        grads: &GradStore,
        lr_factor: f64,
        max_norm: f64,
    ) -> candle_core::Result<f64> {
        let mut flat: Vec<Option<Vec<f32>>> = Vec::with_capacity(self.params.len());
        for p in &self.params {
            flat.push(match grads.get(p.var.as_tensor()) {
                Some(g) => Some(g.flatten_all()?.to_vec1::<f32>()?),
                None => None,
            });
        }
        let squares: f64 = flat
            .iter()
            .flatten()
            .map(|g| {
                g.par_chunks(CHUNK)
                    .map(|c| c.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>())
                    .sum::<f64>()
            })
            .sum();
        let norm = squares.sqrt();
        let clip = if max_norm > 0.0 && norm > max_norm {
            (max_norm / (norm + 1e-6)) as f32
        } else {
            1.0
        };
        self.step += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let bias1 = 1.0 - b1.powi(self.step);
        let bias2 = 1.0 - b2.powi(self.step);
        for (p, g) in self.params.iter_mut().zip(flat) {
            let Some(g) = g else { continue };
            let lr = p.peak_lr * lr_factor;
            let decay = (1.0 - lr * p.weight_decay) as f32;
            let step_size = (lr / bias1) as f32;
            let bias2_sqrt = bias2.sqrt() as f32;
            let (b1, b2, eps) = (b1 as f32, b2 as f32, self.eps as f32);
            let mut theta: Vec<f32> = p.var.as_tensor().flatten_all()?.to_vec1()?;
            theta
                .par_chunks_mut(CHUNK)
                .zip(p.m.par_chunks_mut(CHUNK))
                .zip(p.v.par_chunks_mut(CHUNK))
                .zip(g.par_chunks(CHUNK))
                .for_each(|(((t, m), v), g)| {
                    for i in 0..t.len() {
                        let gi = g[i] * clip;
                        m[i] = b1 * m[i] + (1.0 - b1) * gi;
                        v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                        let denom = v[i].sqrt() / bias2_sqrt + eps;
                        t[i] = t[i] * decay - step_size * m[i] / denom;
                    }
                });
            let shape = p.var.shape().clone();
            p.var
                .set(&Tensor::from_vec(theta, shape, p.var.device())?)?;
        }
        Ok(norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use candle_nn::Optimizer;

    /// Same trajectory as candle's own (unfused) AdamW.
    #[test]
    fn matches_candle_adamw() {
        let dev = Device::Cpu;
        let init = [1.0f32, -2.0, 0.5, 3.0];
        let a = Var::new(&init, &dev).unwrap();
        let b = Var::new(&init, &dev).unwrap();
        let mut ours = AdamW::new(vec![(a.clone(), 0.1, 0.01)]);
        let mut theirs = candle_nn::AdamW::new(
            vec![b.clone()],
            candle_nn::ParamsAdamW {
                lr: 0.1,
                weight_decay: 0.01,
                ..Default::default()
            },
        )
        .unwrap();
        let target = Tensor::new(&[0.0f32, 1.0, 2.0, -1.0], &dev).unwrap();
        for _ in 0..5 {
            let loss_a = (a.as_tensor() - &target)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap();
            ours.step(&loss_a.backward().unwrap(), 1.0, 0.0).unwrap();
            let loss_b = (b.as_tensor() - &target)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap();
            theirs.step(&loss_b.backward().unwrap()).unwrap();
        }
        let x: Vec<f32> = a.as_tensor().to_vec1().unwrap();
        let y: Vec<f32> = b.as_tensor().to_vec1().unwrap();
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() < 1e-5, "{x:?} vs {y:?}");
        }
    }

    #[test]
    fn clipping_bounds_the_global_norm() {
        let dev = Device::Cpu;
        let a = Var::new(&[0.0f32, 0.0], &dev).unwrap();
        let mut opt = AdamW::new(vec![(a.clone(), 0.1, 0.0)]);
        let loss = (a.as_tensor() * &Tensor::new(&[30.0f32, 40.0], &dev).unwrap())
            .unwrap()
            .sum_all()
            .unwrap();
        let norm = opt.step(&loss.backward().unwrap(), 1.0, 1.0).unwrap();
        assert!((norm - 50.0).abs() < 1e-9);
    }
}
