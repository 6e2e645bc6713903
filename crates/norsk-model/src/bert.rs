use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, CustomOp1, DType, Device, Layout, Module, Shape, Tensor, D};
use candle_nn::{embedding, linear, Embedding, Linear, VarBuilder};
use norsk_batch::{Batch, Row};

use crate::attention::FusedAttention;
use crate::float_linear::FloatLinear;
use crate::layer_norm::Norm;
use crate::quantized::QuantizedLinear;

use crate::{BertConfig, HiddenAct, ModelError};

/// One batch of encoder inputs, all `[batch, seq]` `u32` tensors.
#[derive(Debug, Clone)]
pub struct EncoderInput {
    pub input_ids: Tensor,
    pub token_type_ids: Tensor,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Tensor,
}

impl EncoderInput {
    /// The tensors of a padded [`Batch`].
    pub fn from_batch(batch: &Batch, device: &Device) -> Result<Self, ModelError> {
        let shape = (batch.rows(), batch.seq_len());
        Ok(Self {
            input_ids: Tensor::from_slice(batch.ids(), shape, device)?,
            token_type_ids: Tensor::from_slice(batch.type_ids(), shape, device)?,
            attention_mask: Tensor::from_vec(batch.attention_mask(), shape, device)?,
        })
    }

    /// Builds a padded batch from rows of ids and type ids. Rows shorter than
    /// the longest are padded with `pad_id` and masked out.
    pub fn from_rows(
        ids: &[&[u32]],
        type_ids: &[&[u32]],
        pad_id: u32,
        device: &Device,
    ) -> Result<Self, ModelError> {
        Self::from_batch(&Batch::new(&rows(ids, type_ids), pad_id)?, device)
    }

    /// [`EncoderInput::from_rows`] with every row padded to `seq` tokens, as
    /// in a fixed-length batch; a row longer than `seq` is an error.
    pub fn padded_to(
        ids: &[&[u32]],
        type_ids: &[&[u32]],
        pad_id: u32,
        seq: usize,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let batch = Batch::padded_to(&rows(ids, type_ids), pad_id, seq)?;
        Self::from_batch(&batch, device)
    }
}

fn rows<'a>(ids: &[&'a [u32]], type_ids: &[&'a [u32]]) -> Vec<Row<'a>> {
    ids.iter()
        .zip(type_ids)
        .map(|(i, t)| Row::new(i, t))
        .collect()
}

/// How an encoder is laid out in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// For inference: query, key and value fused into one matrix at load,
    /// layer norms by a fused kernel; in f32 also the linear layers with
    /// their bias and activation ([`crate::FloatLinear`]) and the attention
    /// (one fused op). Fastest; no gradients.
    #[default]
    Inference,
    /// [`Mode::Inference`] with the query/key/value, attention output and
    /// feed-forward input layers quantized to int8 at load and their inputs
    /// quantized on the fly (see [`QuantizedLinear`]); the feed-forward
    /// output too where the weights have 8 bits (from AVX512-VNNI up), else
    /// it stays in f32. Faster, at a small loss of accuracy.
    Int8,
    /// [`Mode::Inference`] with the linear layers' products in bf16 with
    /// f32 accumulation where the CPU has bf16 products
    /// ([`crate::kernels::Kernels::bf16`]); elsewhere exactly
    /// [`Mode::Inference`].
    Bf16,
    /// For training: separate query, key and value projections and layer
    /// norms from tensor operations, all taken from the var builder as they
    /// are, so that gradients reach the variables and updates show at once.
    Trainable,
}

/// Dropout for training steps (BERT's places: embeddings, attention
/// probabilities, both residual branches, the pooled output), with its own
/// seeded random stream so that a run can be repeated.
#[derive(Debug, Clone)]
pub struct Dropout {
    hidden: f32,
    attention: f32,
    state: u64,
}

impl Dropout {
    /// Dropout probabilities for hidden states and attention probabilities,
    /// each in `[0, 1)`; `seed` starts the random stream.
    pub fn new(hidden: f32, attention: f32, seed: u64) -> Self {
        Self {
            hidden: hidden.clamp(0.0, 0.99),
            attention: attention.clamp(0.0, 0.99),
            state: seed,
        }
    }

    /// BERT's defaults: 0.1 and 0.1.
    pub fn bert(seed: u64) -> Self {
        Self::new(0.1, 0.1, seed)
    }

    /// The probability for hidden states (also used on the pooled output).
    pub fn hidden(&self) -> f32 {
        self.hidden
    }

    /// SplitMix64.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Zeroes each value with probability `p` and scales the rest by
    /// `1 / (1 - p)`.
    pub fn apply(&mut self, x: &Tensor, p: f32) -> candle_core::Result<Tensor> {
        if p <= 0.0 {
            return Ok(x.clone());
        }
        let n = x.elem_count();
        let threshold = (p as f64 * 4_294_967_296.0) as u64;
        let scale = 1.0 / (1.0 - p);
        let mut mask = Vec::with_capacity(n + 1);
        while mask.len() < n {
            let r = self.next_u64();
            for half in [r & 0xFFFF_FFFF, r >> 32] {
                mask.push(if half < threshold { 0.0f32 } else { scale });
            }
        }
        mask.truncate(n);
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        x.mul(&mask)
    }
}

/// Softmax over the last dimension with a backward pass, for training
/// steps: candle's fast kernel has no backward, and the softmax composed of
/// tensor operations costs five passes forward and more backward. This one
/// is one parallel pass forward (the same arithmetic as candle's kernel) and
/// `(g − Σ g·p) · p` backward.
struct Softmax;

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "norsk-softmax-last-dim"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        use rayon::prelude::*;
        let width = l.shape().dims().last().copied().unwrap_or(1).max(1);
        let (start, end) = match l.contiguous_offsets() {
            Some(range) => range,
            None => bail!("softmax input must be contiguous"),
        };
        let src = match s {
            CpuStorage::F32(a) => &a[start..end],
            other => bail!("training softmax on {:?} is not supported", other.dtype()),
        };
        let mut out = vec![0f32; src.len()];
        out.par_chunks_mut(width)
            .zip(src.par_chunks(width))
            .with_min_len(64)
            .for_each(|(dst, row)| {
                let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let mut sum = 0f32;
                for (d, &v) in dst.iter_mut().zip(row) {
                    *d = (v - max).exp();
                    sum += *d;
                }
                for d in dst.iter_mut() {
                    *d /= sum;
                }
            });
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let dot = (grad_res * res)?.sum_keepdim(D::Minus1)?;
        Ok(Some(grad_res.broadcast_sub(&dot)?.mul(res)?))
    }
}

/// The softmax of a training step: [`Softmax`] in f32, the composed one
/// otherwise.
fn train_softmax(scores: &Tensor) -> candle_core::Result<Tensor> {
    if scores.dtype() == DType::F32 {
        scores.contiguous()?.apply_op1(Softmax)
    } else {
        candle_nn::ops::softmax(scores, D::Minus1)
    }
}

/// Applies hidden-state dropout when training.
fn drop_hidden(x: Tensor, dropout: Option<&mut Dropout>) -> candle_core::Result<Tensor> {
    match dropout {
        Some(d) => {
            let p = d.hidden;
            d.apply(&x, p)
        }
        None => Ok(x),
    }
}

struct Embeddings {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: Norm,
}

impl Embeddings {
    fn load(vb: VarBuilder, c: &BertConfig, mode: Mode) -> candle_core::Result<Self> {
        Ok(Self {
            word: embedding(c.vocab_size, c.hidden_size, vb.pp("word_embeddings"))?,
            position: embedding(
                c.max_position_embeddings,
                c.hidden_size,
                vb.pp("position_embeddings"),
            )?,
            token_type: embedding(
                c.type_vocab_size,
                c.hidden_size,
                vb.pp("token_type_embeddings"),
            )?,
            norm: Norm::load(
                c.hidden_size,
                c.layer_norm_eps,
                vb.pp("LayerNorm"),
                mode == Mode::Trainable,
            )?,
        })
    }

    fn forward(
        &self,
        input: &EncoderInput,
        dropout: Option<&mut Dropout>,
    ) -> candle_core::Result<Tensor> {
        let _op = tracing::trace_span!("embeddings").entered();
        let (_, seq) = input.input_ids.dims2()?;
        let positions = Tensor::arange(0u32, seq as u32, input.input_ids.device())?;
        let words = self.word.forward(&input.input_ids)?;
        let types = self.token_type.forward(&input.token_type_ids)?;
        let positions = self.position.forward(&positions)?.unsqueeze(0)?;
        let sum = words.add(&types)?.broadcast_add(&positions)?;
        drop_hidden(self.norm.forward(&sum)?, dropout)
    }
}

/// A linear layer, and the activation after it, in the form its [`Mode`]
/// asks for.
enum Dense {
    /// candle's own layer: training (it has a backward) and bf16.
    Candle(Linear, Option<HiddenAct>),
    /// f32 inference: bias and activation fused into the product.
    Float(FloatLinear),
    /// int8 inference: bias and activation applied by the product's tasks.
    Int8(QuantizedLinear),
}

impl Dense {
    fn new(linear: Linear, mode: Mode, activation: Option<HiddenAct>) -> candle_core::Result<Self> {
        Ok(match mode {
            Mode::Int8 => Dense::Int8(QuantizedLinear::from_linear(&linear, activation)?),
            Mode::Inference if linear.weight().dtype() == DType::F32 => {
                Dense::Float(FloatLinear::from_linear(&linear, activation)?)
            }
            Mode::Bf16 => Dense::Float(FloatLinear::bf16_from_linear(&linear, activation)?),
            Mode::Inference | Mode::Trainable => Dense::Candle(linear, activation),
        })
    }

    fn load(
        inputs: usize,
        outputs: usize,
        vb: VarBuilder,
        mode: Mode,
        activation: Option<HiddenAct>,
    ) -> candle_core::Result<Self> {
        Self::new(linear(inputs, outputs, vb)?, mode, activation)
    }
}

impl Module for Dense {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (y, act) = match self {
            Dense::Float(linear) => return linear.forward(x),
            Dense::Int8(linear) => return linear.forward(x),
            Dense::Candle(linear, act) => (linear.forward(x)?, act),
        };
        match act {
            None => Ok(y),
            Some(HiddenAct::Gelu) => y.gelu_erf(),
            Some(HiddenAct::GeluNew) => y.gelu(),
            Some(HiddenAct::Relu) => y.relu(),
        }
    }
}

/// The query, key and value projections.
enum Projection {
    /// Fused into one matrix product, laid out once at load (inference).
    Fused(Dense),
    /// Three products over the var builder's own tensors (training).
    Separate([Linear; 3]),
}

/// Self-attention and its output block.
struct Attention {
    projection: Projection,
    output: Dense,
    norm: Norm,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn load(vb: VarBuilder, c: &BertConfig, mode: Mode) -> candle_core::Result<Self> {
        let h = c.hidden_size;
        let sv = vb.pp("self");
        let parts = ["query", "key", "value"].map(|n| linear(h, h, sv.pp(n)));
        let [q, k, v] = parts;
        let (q, k, v) = (q?, k?, v?);
        let projection = match mode {
            Mode::Trainable => Projection::Separate([q, k, v]),
            Mode::Inference | Mode::Int8 | Mode::Bf16 => {
                let weight = Tensor::cat(&[q.weight(), k.weight(), v.weight()], 0)?;
                let bias = match (q.bias(), k.bias(), v.bias()) {
                    (Some(qb), Some(kb), Some(vb)) => Some(Tensor::cat(&[qb, kb, vb], 0)?),
                    _ => None,
                };
                Projection::Fused(Dense::new(Linear::new(weight, bias), mode, None)?)
            }
        };
        Ok(Self {
            projection,
            output: Dense::load(h, h, vb.pp("output").pp("dense"), mode, None)?,
            norm: Norm::load(
                h,
                c.layer_norm_eps,
                vb.pp("output").pp("LayerNorm"),
                mode == Mode::Trainable,
            )?,
            heads: c.num_attention_heads,
            head_dim: c.head_dim(),
        })
    }

    /// Query, key and value, each `[batch, heads, seq, head_dim]`, contiguous.
    fn project(&self, x: &Tensor) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
        let _op = tracing::trace_span!("qkv").entered();
        let (b, t, _) = x.dims3()?;
        match &self.projection {
            Projection::Fused(qkv) => {
                let qkv = qkv
                    .forward(x)?
                    .reshape((b, t, 3, self.heads, self.head_dim))?
                    .permute((2, 0, 3, 1, 4))?;
                Ok((
                    qkv.get(0)?.contiguous()?,
                    qkv.get(1)?.contiguous()?,
                    qkv.get(2)?.contiguous()?,
                ))
            }
            Projection::Separate([q, k, v]) => {
                let split = |p: &Linear| {
                    p.forward(x)?
                        .reshape((b, t, self.heads, self.head_dim))?
                        .transpose(1, 2)?
                        .contiguous()
                };
                Ok((split(q)?, split(k)?, split(v)?))
            }
        }
    }

    /// `mask` is additive, `[batch, 1, 1, seq]`, in the activations' dtype.
    /// With `dropout` (a training step) the softmax is the differentiable
    /// one and dropout applies to the probabilities and the output.
    fn forward(
        &self,
        x: &Tensor,
        mask: &Tensor,
        mut dropout: Option<&mut Dropout>,
    ) -> candle_core::Result<Tensor> {
        let context = match (&self.projection, &dropout, x.dtype()) {
            (Projection::Fused(qkv), None, DType::F32) => {
                let qkv = tracing::trace_span!("qkv").in_scope(|| qkv.forward(x))?;
                let _op = tracing::trace_span!("attention").entered();
                FusedAttention::new(self.heads, self.head_dim).forward(&qkv, mask)?
            }
            _ => self.composed(x, mask, dropout.as_deref_mut())?,
        };
        let out =
            tracing::trace_span!("attention-out").in_scope(|| self.output.forward(&context))?;
        let out = drop_hidden(out, dropout)?;
        let _op = tracing::trace_span!("layer-norm").entered();
        self.norm.forward_residual(&out, x)
    }

    /// The attention context in candle ops: training (differentiable, with
    /// dropout) and bf16.
    fn composed(
        &self,
        x: &Tensor,
        mask: &Tensor,
        dropout: Option<&mut Dropout>,
    ) -> candle_core::Result<Tensor> {
        let (b, t, h) = x.dims3()?;
        let (q, k, v) = self.project(x)?;
        let _op = tracing::trace_span!("attention").entered();
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(mask)?;
        let probs = match dropout {
            None => candle_nn::ops::softmax_last_dim(&scores)?,
            Some(d) => {
                let probs = train_softmax(&scores)?;
                let p = d.attention;
                d.apply(&probs, p)?
            }
        };
        probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, h))
    }
}

struct FeedForward {
    /// The intermediate layer and its activation.
    intermediate: Dense,
    output: Dense,
    norm: Norm,
}

impl FeedForward {
    fn load(vb: VarBuilder, c: &BertConfig, mode: Mode) -> candle_core::Result<Self> {
        Ok(Self {
            intermediate: Dense::load(
                c.hidden_size,
                c.intermediate_size,
                vb.pp("intermediate").pp("dense"),
                mode,
                Some(c.hidden_act),
            )?,
            output: Dense::load(
                c.intermediate_size,
                c.hidden_size,
                vb.pp("output").pp("dense"),
                mode,
                None,
            )?,
            norm: Norm::load(
                c.hidden_size,
                c.layer_norm_eps,
                vb.pp("output").pp("LayerNorm"),
                mode == Mode::Trainable,
            )?,
        })
    }

    fn forward(&self, x: &Tensor, dropout: Option<&mut Dropout>) -> candle_core::Result<Tensor> {
        let hidden = tracing::trace_span!("ffn-in").in_scope(|| self.intermediate.forward(x))?;
        let out = tracing::trace_span!("ffn-out").in_scope(|| self.output.forward(&hidden))?;
        let out = drop_hidden(out, dropout)?;
        let _op = tracing::trace_span!("layer-norm").entered();
        self.norm.forward_residual(&out, x)
    }
}

struct Layer {
    attention: Attention,
    feed_forward: FeedForward,
}

/// The BERT encoder: embeddings and transformer layers, plus the pooler when
/// the weights have one.
pub struct BertEncoder {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    pooler: Option<Linear>,
    dtype: DType,
    mode: Mode,
}

impl BertEncoder {
    /// Loads the encoder for inference from a var builder rooted at the
    /// `bert.` prefix.
    pub fn load(vb: VarBuilder, config: &BertConfig) -> Result<Self, ModelError> {
        Self::load_with(vb, config, Mode::Inference)
    }

    /// Loads the encoder for training (see [`Mode::Trainable`]), typically
    /// from a `VarMap`-backed var builder whose variables an optimiser
    /// updates.
    pub fn load_trainable(vb: VarBuilder, config: &BertConfig) -> Result<Self, ModelError> {
        Self::load_with(vb, config, Mode::Trainable)
    }

    /// Loads the encoder in the given mode.
    pub fn load_with(vb: VarBuilder, config: &BertConfig, mode: Mode) -> Result<Self, ModelError> {
        let shape_err = |e: candle_core::Error| ModelError::Shape(e.to_string());
        let embeddings = Embeddings::load(vb.pp("embeddings"), config, mode).map_err(shape_err)?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let lvb = vb.pp("encoder").pp("layer").pp(i.to_string());
                Ok(Layer {
                    attention: Attention::load(lvb.pp("attention"), config, mode)?,
                    feed_forward: FeedForward::load(lvb.clone(), config, mode)?,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()
            .map_err(shape_err)?;
        let pooler = if vb.contains_tensor("pooler.dense.weight") {
            Some(
                linear(
                    config.hidden_size,
                    config.hidden_size,
                    vb.pp("pooler").pp("dense"),
                )
                .map_err(shape_err)?,
            )
        } else {
            None
        };
        Ok(Self {
            embeddings,
            layers,
            pooler,
            dtype: vb.dtype(),
            mode,
        })
    }

    /// The last hidden state, `[batch, seq, hidden]`, without dropout.
    pub fn forward(&self, input: &EncoderInput) -> Result<Tensor, ModelError> {
        self.run(input, None)
    }

    /// The last hidden state of a training step: with dropout, and only
    /// differentiable operations. Gradients reach the variables of an
    /// encoder loaded with [`BertEncoder::load_trainable`].
    pub fn forward_train(
        &self,
        input: &EncoderInput,
        dropout: &mut Dropout,
    ) -> Result<Tensor, ModelError> {
        self.run(input, Some(dropout))
    }

    /// The hidden state after the embeddings and the first `layers` layers,
    /// `[batch, seq, hidden]`, without dropout: what a model whose bottom is
    /// frozen can compute once and keep. `layers` is at most
    /// [`BertEncoder::num_layers`].
    pub fn hidden_after(&self, input: &EncoderInput, layers: usize) -> Result<Tensor, ModelError> {
        let hidden = self.embeddings.forward(input, None)?;
        self.run_layers(hidden, &input.attention_mask, 0..layers, None)
    }

    /// Continues a training step from [`BertEncoder::hidden_after`]`(input,
    /// first)`: layers `first..` with dropout. `attention_mask` is the
    /// batch's `[batch, seq]` mask. Equals [`BertEncoder::forward_train`]
    /// when the first `first` layers and the embeddings drop nothing.
    pub fn forward_train_from(
        &self,
        hidden: &Tensor,
        attention_mask: &Tensor,
        first: usize,
        dropout: &mut Dropout,
    ) -> Result<Tensor, ModelError> {
        let n = self.layers.len();
        self.run_layers(hidden.clone(), attention_mask, first..n, Some(dropout))
    }

    fn run(
        &self,
        input: &EncoderInput,
        mut dropout: Option<&mut Dropout>,
    ) -> Result<Tensor, ModelError> {
        let hidden = self.embeddings.forward(input, dropout.as_deref_mut())?;
        let all = 0..self.layers.len();
        self.run_layers(hidden, &input.attention_mask, all, dropout)
    }

    fn run_layers(
        &self,
        mut hidden: Tensor,
        attention_mask: &Tensor,
        layers: std::ops::Range<usize>,
        mut dropout: Option<&mut Dropout>,
    ) -> Result<Tensor, ModelError> {
        let Some(layers) = self.layers.get(layers.clone()) else {
            return Err(ModelError::Shape(format!(
                "layers {layers:?} of an encoder with {}",
                self.layers.len()
            )));
        };
        let mask = self.additive_mask(attention_mask)?;
        for layer in layers {
            hidden = layer
                .attention
                .forward(&hidden, &mask, dropout.as_deref_mut())?;
            hidden = layer
                .feed_forward
                .forward(&hidden, dropout.as_deref_mut())?;
        }
        Ok(hidden)
    }

    /// The number of transformer layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// BERT's pooled output: `tanh(dense(hidden[:, 0]))`.
    pub fn pool(&self, hidden: &Tensor) -> Result<Tensor, ModelError> {
        let _op = tracing::trace_span!("head").entered();
        let pooler = self.pooler.as_ref().ok_or_else(|| {
            ModelError::Shape("the weights have no pooler (bert.pooler.dense)".into())
        })?;
        let first = hidden.get_on_dim(1, 0)?;
        Ok(pooler.forward(&first)?.tanh()?)
    }

    /// `(1 - mask) * min`, with a finite minimum so that bf16 does not turn
    /// `0 * -inf` into NaN.
    fn additive_mask(&self, mask: &Tensor) -> Result<Tensor, ModelError> {
        let (b, t) = mask.dims2()?;
        let floor = match self.dtype {
            DType::BF16 => -1.0e30,
            _ => f32::MIN as f64,
        };
        let inverted = mask.to_dtype(DType::F32)?.affine(-1.0, 1.0)?;
        Ok((inverted * floor)?
            .to_dtype(self.dtype)?
            .reshape((b, 1, 1, t))?)
    }

    /// The dtype of weights and activations.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// How the encoder was loaded.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether the weights have a pooler.
    pub fn has_pooler(&self) -> bool {
        self.pooler.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_length_batch_pads_and_masks_every_row_and_refuses_longer_ones() {
        let (a, b): (&[u32], &[u32]) = (&[2, 7, 3], &[2, 3]);
        let input =
            EncoderInput::padded_to(&[a, b], &[&[0; 3], &[0; 2]], 1, 5, &Device::Cpu).unwrap();
        assert_eq!(
            input.input_ids.to_vec2::<u32>().unwrap(),
            [[2, 7, 3, 1, 1], [2, 3, 1, 1, 1]]
        );
        assert_eq!(
            input.attention_mask.to_vec2::<u32>().unwrap(),
            [[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]]
        );
        assert!(EncoderInput::padded_to(&[a], &[&[0; 3]], 1, 2, &Device::Cpu).is_err());
    }
}
