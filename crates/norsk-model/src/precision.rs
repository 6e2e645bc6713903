use std::fmt;
use std::str::FromStr;

use candle_core::DType;

use crate::Mode;

/// Numeric precision of the model's weights and matrix products.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// 32-bit floats: the reference precision.
    #[default]
    F32,
    /// The linear layers' products in bfloat16 with f32 accumulation, the
    /// weights converted once at load, everything else in f32, where the CPU
    /// has bf16 products (AVX512-BF16 or AMX, with oneMKL or oneDNN); elsewhere the f32
    /// products (see [`crate::kernels::Kernels::bf16`]).
    Bf16,
    /// f32 activations with most of the encoder's linear layers in int8:
    /// weights quantized per output channel at load, inputs per row on the
    /// fly (dynamic quantization, as ONNX Runtime's `quantize_dynamic`); see
    /// [`Mode::Int8`] for which layers.
    Int8,
}

impl Precision {
    /// The candle dtype of weights and activations.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 | Precision::Int8 | Precision::Bf16 => DType::F32,
        }
    }

    /// How an encoder for inference at this precision is laid out.
    pub fn inference_mode(self) -> Mode {
        match self {
            Precision::F32 => Mode::Inference,
            Precision::Bf16 => Mode::Bf16,
            Precision::Int8 => Mode::Int8,
        }
    }

    /// Every precision, for sweeps.
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::Bf16, Precision::Int8];
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::Int8 => "int8",
        })
    }
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Precision::F32),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            "int8" | "i8" | "qint8" => Ok(Precision::Int8),
            other => Err(format!(
                "unknown precision {other:?} (expected f32, bf16 or int8)"
            )),
        }
    }
}
