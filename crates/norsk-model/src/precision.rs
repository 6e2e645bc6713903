use std::fmt;
use std::str::FromStr;

use candle_core::DType;

/// Numeric precision of the model's weights and matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// 32-bit floats: the reference precision.
    #[default]
    F32,
    /// bfloat16 weights and activations; layer norms and softmax stay in f32.
    Bf16,
}

impl Precision {
    /// The candle dtype of weights and activations.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
        }
    }

    /// Every precision, for sweeps.
    pub const ALL: [Precision; 2] = [Precision::F32, Precision::Bf16];
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        })
    }
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Precision::F32),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            other => Err(format!(
                "unknown precision {other:?} (expected f32 or bf16)"
            )),
        }
    }
}
