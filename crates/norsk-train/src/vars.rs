//! The variables of a model being fine-tuned: taken from the base model's
//! tensors when it has them, created fresh (seeded) for the new head.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::Init;

use crate::data::Rng;

/// Whether a tensor name belongs to the fresh head: it may be created when
/// the base model lacks it.
pub(crate) fn is_head(name: &str) -> bool {
    name.starts_with("classifier.") || name.starts_with("bert.pooler.")
}

/// Whether a tensor belongs to the frozen bottom of an encoder whose
/// embeddings and first `layers` layers are frozen.
pub(crate) fn is_frozen(name: &str, layers: usize) -> bool {
    if layers == 0 {
        return false;
    }
    if name.starts_with("bert.embeddings.") {
        return true;
    }
    name.strip_prefix("bert.encoder.layer.")
        .and_then(|rest| rest.split_once('.'))
        .and_then(|(index, _)| index.parse::<usize>().ok())
        .is_some_and(|index| index < layers)
}

/// Named variables, shared between the var builder and the trainer, and
/// the frozen tensors beside them.
#[derive(Clone, Default)]
pub(crate) struct Store {
    inner: Arc<Mutex<StoreInner>>,
}

#[derive(Default)]
struct StoreInner {
    vars: BTreeMap<String, Var>,
    /// Tensors taken from the base and never trained (no gradients).
    frozen: BTreeMap<String, Tensor>,
    /// Names created fresh, not taken from the base model.
    fresh: Vec<String>,
}

impl Store {
    /// Every variable, by name.
    pub fn vars(&self) -> Vec<(String, Var)> {
        let inner = self.inner.lock().expect("variable store poisoned");
        inner
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Names of the variables created fresh, sorted.
    pub fn fresh(&self) -> Vec<String> {
        let inner = self.inner.lock().expect("variable store poisoned");
        let mut names = inner.fresh.clone();
        names.sort();
        names
    }

    /// Names of the frozen tensors, sorted.
    pub fn frozen(&self) -> Vec<String> {
        let inner = self.inner.lock().expect("variable store poisoned");
        inner.frozen.keys().cloned().collect()
    }

    /// Every tensor of the model under its name: deep copies of the
    /// variables' current values, and the frozen tensors (which never
    /// change, so they are shared, not copied).
    pub fn snapshot(&self) -> candle_core::Result<HashMap<String, Tensor>> {
        let frozen: Vec<(String, Tensor)> = {
            let inner = self.inner.lock().expect("variable store poisoned");
            inner
                .frozen
                .iter()
                .map(|(k, t)| (k.clone(), t.clone()))
                .collect()
        };
        self.vars()
            .into_iter()
            .map(|(name, var)| Ok((name, var.as_tensor().copy()?)))
            .chain(frozen.into_iter().map(Ok))
            .collect()
    }

    /// Sets every variable to the value of the same name.
    pub fn restore(&self, values: &HashMap<String, Tensor>) -> candle_core::Result<()> {
        for (name, var) in self.vars() {
            if let Some(value) = values.get(&name) {
                var.set(value)?;
            }
        }
        Ok(())
    }
}

/// A var-builder backend over the base model's tensors: each tensor the
/// model asks for becomes an f32 variable (a copy), or an f32 constant when
/// it is [frozen](is_frozen); missing head tensors are drawn from a seeded
/// generator; any other missing tensor is an error.
pub(crate) struct BaseBackend {
    base: HashMap<String, Tensor>,
    store: Store,
    rng: Mutex<Rng>,
    freeze_layers: usize,
}

impl BaseBackend {
    pub fn new(
        base: HashMap<String, Tensor>,
        store: Store,
        seed: u64,
        freeze_layers: usize,
    ) -> Self {
        Self {
            base,
            store,
            rng: Mutex::new(Rng::new(seed)),
            freeze_layers,
        }
    }

    fn fresh(&self, shape: &Shape, init: Init, device: &Device) -> candle_core::Result<Tensor> {
        let n = shape.elem_count();
        let values: Vec<f32> = match init {
            Init::Const(v) => vec![v as f32; n],
            Init::Randn { mean, stdev } => {
                let mut rng = self.rng.lock().expect("rng poisoned");
                (0..n)
                    .map(|_| (mean + stdev * rng.normal()) as f32)
                    .collect()
            }
            Init::Uniform { lo, up } => {
                let mut rng = self.rng.lock().expect("rng poisoned");
                (0..n)
                    .map(|_| (lo + (up - lo) * rng.uniform()) as f32)
                    .collect()
            }
            other => candle_core::bail!("unsupported initialisation {other:?} for a fresh head"),
        };
        Tensor::from_vec(values, shape.clone(), device)
    }
}

impl SimpleBackend for BaseBackend {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        init: Init,
        _dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        let mut store = self.store.inner.lock().expect("variable store poisoned");
        let known = store
            .vars
            .get(name)
            .map(|var| var.as_tensor())
            .or_else(|| store.frozen.get(name));
        if let Some(tensor) = known {
            if tensor.shape() != &shape {
                candle_core::bail!("{name}: asked for {shape:?}, have {:?}", tensor.shape());
            }
            return Ok(tensor.clone());
        }
        let value = match self.base.get(name) {
            Some(t) => {
                if t.shape() != &shape {
                    candle_core::bail!(
                        "{name}: the model needs {shape:?}, the base weights have {:?}",
                        t.shape()
                    );
                }
                t.to_device(device)?.to_dtype(DType::F32)?
            }
            None if is_head(name) => {
                store.fresh.push(name.to_string());
                self.fresh(&shape, init, device)?
            }
            None => candle_core::bail!(
                "cannot find tensor {name}: the base model lacks encoder weights"
            ),
        };
        if is_frozen(name, self.freeze_layers) {
            store.frozen.insert(name.to_string(), value.clone());
            return Ok(value);
        }
        let var = Var::from_tensor(&value)?;
        let tensor = var.as_tensor().clone();
        store.vars.insert(name.to_string(), var);
        Ok(tensor)
    }

    fn get_unchecked(
        &self,
        name: &str,
        _dtype: DType,
        _dev: &Device,
    ) -> candle_core::Result<Tensor> {
        candle_core::bail!("{name}: the training backend needs shapes")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.base.contains_key(name)
            || self
                .store
                .inner
                .lock()
                .expect("variable store poisoned")
                .vars
                .contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embeddings_and_the_first_layers_are_frozen() {
        assert!(!is_frozen("bert.embeddings.word_embeddings.weight", 0));
        assert!(is_frozen("bert.embeddings.word_embeddings.weight", 1));
        assert!(is_frozen("bert.encoder.layer.7.output.dense.weight", 8));
        assert!(!is_frozen("bert.encoder.layer.8.output.dense.weight", 8));
        assert!(!is_frozen("bert.encoder.layer.10.output.dense.weight", 2));
        assert!(!is_frozen("bert.pooler.dense.weight", 12));
        assert!(!is_frozen("classifier.weight", 12));
    }
}
