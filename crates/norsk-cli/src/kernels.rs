//! Choosing the product kernels once, at start, from the environment:
//! `NORSK_ISA` caps the instruction set (`portable`, `avx2`, `avx512`,
//! `avx512-vnni`, `avx512-bf16`, `amx`), `NORSK_KERNELS` picks the library
//! (`auto`, `own`, `onednn`, `mkl`) and `NORSK_KERNEL_LIBS` (a `:`-separated
//! list of folders) is searched for the libraries before `kernel-libs/` next
//! to the executable's folder (where `scripts/setup.sh` puts oneMKL for a
//! build in `target/`) and the system's own search.

use std::path::PathBuf;

use norsk::kernels::{self, KernelOptions, Kernels};

/// Reads the environment and chooses the kernels for this process.
pub fn configure() -> anyhow::Result<&'static Kernels> {
    let mut exe_dirs = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        exe_dirs.push(exe_dir.join("kernel-libs"));
        if let Some(up) = exe_dir.parent() {
            exe_dirs.push(up.join("kernel-libs"));
        }
    }
    Ok(kernels::configure(&KernelOptions::from_env(&exe_dirs)?)?)
}

/// `--precision`, as every command that runs a model takes it.
#[derive(Debug, clap::Args)]
pub struct PrecisionArgs {
    /// Numeric precision of the model.
    #[arg(
        long,
        value_parser = crate::choice::Choice::<norsk::Precision>::new(),
        default_value = "f32"
    )]
    pub precision: norsk::Precision,
}

impl PrecisionArgs {
    /// The precision asked for, said on stderr when this CPU runs it as
    /// another (see [`note_precision`]).
    pub fn chosen(&self) -> norsk::Precision {
        note_precision(self.precision);
        self.precision
    }
}

/// Says on stderr when `--precision bf16` runs the f32 products because this
/// CPU has no bf16 products.
pub fn note_precision(precision: norsk::Precision) {
    if precision == norsk::Precision::Bf16 && kernels::selected().bf16_products().is_none() {
        eprintln!(
            "norsk: note: this CPU has no bf16 products ({}); --precision bf16 runs the f32 products",
            kernels::selected().isa
        );
    }
}

/// The products a precision runs on, e.g. `onednn` or `f32 products: gemm-crate`.
pub fn product_kernel(precision: norsk::Precision) -> String {
    let chosen = kernels::selected();
    match precision {
        norsk::Precision::Int8 => chosen.int8.name().to_string(),
        norsk::Precision::Bf16 => match chosen.bf16_products() {
            Some(library) => format!("bf16 products: {library}"),
            None => format!("f32 products: {}", chosen.f32.name()),
        },
        _ => chosen.f32.name().to_string(),
    }
}
