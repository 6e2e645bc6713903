use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{embedding, linear, Embedding, Linear, VarBuilder};

use crate::layer_norm::LayerNorm;

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
    /// Builds a padded batch from rows of ids and type ids. Rows shorter than
    /// the longest are padded with `pad_id` and masked out.
    pub fn from_rows(
        ids: &[&[u32]],
        type_ids: &[&[u32]],
        pad_id: u32,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let batch = ids.len();
        let seq = ids.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut flat_ids = vec![pad_id; batch * seq];
        let mut flat_types = vec![0u32; batch * seq];
        let mut flat_mask = vec![0u32; batch * seq];
        for (row, (row_ids, row_types)) in ids.iter().zip(type_ids).enumerate() {
            let base = row * seq;
            flat_ids[base..base + row_ids.len()].copy_from_slice(row_ids);
            flat_types[base..base + row_types.len()].copy_from_slice(row_types);
            flat_mask[base..base + row_ids.len()].fill(1);
        }
        let shape = (batch, seq);
        Ok(Self {
            input_ids: Tensor::from_vec(flat_ids, shape, device)?,
            token_type_ids: Tensor::from_vec(flat_types, shape, device)?,
            attention_mask: Tensor::from_vec(flat_mask, shape, device)?,
        })
    }
}

struct Embeddings {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
}

impl Embeddings {
    fn load(vb: VarBuilder, c: &BertConfig) -> candle_core::Result<Self> {
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
            norm: LayerNorm::load(c.hidden_size, c.layer_norm_eps, vb.pp("LayerNorm"))?,
        })
    }

    fn forward(&self, input: &EncoderInput) -> candle_core::Result<Tensor> {
        let (_, seq) = input.input_ids.dims2()?;
        let positions = Tensor::arange(0u32, seq as u32, input.input_ids.device())?;
        let words = self.word.forward(&input.input_ids)?;
        let types = self.token_type.forward(&input.token_type_ids)?;
        let positions = self.position.forward(&positions)?.unsqueeze(0)?;
        let sum = words.add(&types)?.broadcast_add(&positions)?;
        self.norm.forward(&sum)
    }
}

/// Self-attention with the query, key and value projections fused into one
/// matrix product, laid out once at load.
struct Attention {
    qkv: Linear,
    output: Linear,
    norm: LayerNorm,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn load(vb: VarBuilder, c: &BertConfig) -> candle_core::Result<Self> {
        let h = c.hidden_size;
        let sv = vb.pp("self");
        let parts = ["query", "key", "value"].map(|n| linear(h, h, sv.pp(n)));
        let [q, k, v] = parts;
        let (q, k, v) = (q?, k?, v?);
        let weight = Tensor::cat(&[q.weight(), k.weight(), v.weight()], 0)?;
        let bias = match (q.bias(), k.bias(), v.bias()) {
            (Some(qb), Some(kb), Some(vb)) => Some(Tensor::cat(&[qb, kb, vb], 0)?),
            _ => None,
        };
        Ok(Self {
            qkv: Linear::new(weight, bias),
            output: linear(h, h, vb.pp("output").pp("dense"))?,
            norm: LayerNorm::load(h, c.layer_norm_eps, vb.pp("output").pp("LayerNorm"))?,
            heads: c.num_attention_heads,
            head_dim: c.head_dim(),
        })
    }

    /// `mask` is additive, `[batch, 1, 1, seq]`, in the activations' dtype.
    fn forward(&self, x: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t, h) = x.dims3()?;
        let qkv = self
            .qkv
            .forward(x)?
            .reshape((b, t, 3, self.heads, self.head_dim))?
            .permute((2, 0, 3, 1, 4))?;
        let q = qkv.get(0)?.contiguous()?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(mask)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, h))?;
        let out = self.output.forward(&context)?;
        self.norm.forward_residual(&out, x)
    }
}

struct FeedForward {
    intermediate: Linear,
    output: Linear,
    norm: LayerNorm,
    act: HiddenAct,
}

impl FeedForward {
    fn load(vb: VarBuilder, c: &BertConfig) -> candle_core::Result<Self> {
        Ok(Self {
            intermediate: linear(
                c.hidden_size,
                c.intermediate_size,
                vb.pp("intermediate").pp("dense"),
            )?,
            output: linear(
                c.intermediate_size,
                c.hidden_size,
                vb.pp("output").pp("dense"),
            )?,
            norm: LayerNorm::load(
                c.hidden_size,
                c.layer_norm_eps,
                vb.pp("output").pp("LayerNorm"),
            )?,
            act: c.hidden_act,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let hidden = self.intermediate.forward(x)?;
        let hidden = match self.act {
            HiddenAct::Gelu => hidden.gelu_erf()?,
            HiddenAct::GeluNew => hidden.gelu()?,
            HiddenAct::Relu => hidden.relu()?,
        };
        let out = self.output.forward(&hidden)?;
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
}

impl BertEncoder {
    /// Loads the encoder from a var builder rooted at the `bert.` prefix.
    pub fn load(vb: VarBuilder, config: &BertConfig) -> Result<Self, ModelError> {
        let shape_err = |e: candle_core::Error| ModelError::Shape(e.to_string());
        let embeddings = Embeddings::load(vb.pp("embeddings"), config).map_err(shape_err)?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let lvb = vb.pp("encoder").pp("layer").pp(i.to_string());
                Ok(Layer {
                    attention: Attention::load(lvb.pp("attention"), config)?,
                    feed_forward: FeedForward::load(lvb.clone(), config)?,
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
        })
    }

    /// The last hidden state, `[batch, seq, hidden]`.
    pub fn forward(&self, input: &EncoderInput) -> Result<Tensor, ModelError> {
        let mask = self.additive_mask(&input.attention_mask)?;
        let mut hidden = self.embeddings.forward(input)?;
        for layer in &self.layers {
            hidden = layer.attention.forward(&hidden, &mask)?;
            hidden = layer.feed_forward.forward(&hidden)?;
        }
        Ok(hidden)
    }

    /// BERT's pooled output: `tanh(dense(hidden[:, 0]))`.
    pub fn pool(&self, hidden: &Tensor) -> Result<Tensor, ModelError> {
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
}
