//! The matrix products under the linear layers, chosen once at run time from
//! what this CPU has and which kernel libraries this machine has.
//!
//! | CPU | f32 | int8 | bf16 |
//! |---|---|---|---|
//! | Intel with AVX-512 and oneMKL present | oneMKL `cblas_sgemm` | `cblas_gemm_s8u8s32` from VNNI up (AMX-INT8) | `cblas_gemm_bf16bf16f32` (AVX512-BF16, AMX-BF16) |
//! | any x86-64 with AVX2 and oneDNN present | oneDNN `dnnl_sgemm` | from VNNI up oneDNN's matmul on weights packed at load (oneDNN 2) or `dnnl_gemm_u8s8s32`, else norsk's AVX2 kernel | oneDNN's bf16 matmul where the CPU has bf16 (oneDNN 2), else f32 products |
//! | AVX2 without a library | the `gemm` crate | norsk's AVX512-VNNI kernel where the CPU has VNNI, else its AVX2 kernel | f32 products |
//! | anything else | the `gemm` crate | the portable kernel | f32 products |
//!
//! The libraries are opened with `dlopen`, never linked, so one binary runs
//! on every x86-64 CPU with or without them. Each library call computes one
//! block of output columns on one thread; the blocks run on rayon's threads
//! like the rest of the pass, so no second thread pool competes with it; the
//! attention's per-head products run on the same f32 kernel.
//! oneMKL is chosen on Intel CPUs only: on an AMD EPYC (Zen 3) its products
//! ran at a third of oneDNN's, and on an AMD EPYC with AVX512-VNNI (Zen 4)
//! its int8 product still saturated. Every int8 path gives the integers the
//! portable kernel gives with the same operand ranges ([`Int8Ranges`]):
//! 8-bit activations from AVX512-VNNI up, 6-bit below, where norsk's AVX2
//! kernel and the libraries add pairs in `i16`.
//! Below AVX512-VNNI the libraries' int8 products are not used: oneMKL's
//! saturates its 16-bit pair sums, and oneDNN's ran slower than norsk's AVX2
//! kernel in the whole pass on an AMD EPYC (Zen 3).

mod dynlib;
mod isa;
mod mkl;
mod onednn;
mod onednn_matmul;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::product::Strided;

pub use isa::{CpuFeatures, Isa, Vendor};
pub(crate) use onednn_matmul::PackedInt8;

/// Operands of `c = alpha · a · b (+ c)`: `a` is `m × k`, `b` is `k × n`
/// (or, with `b_transposed`, `n × k` holding `bᵀ`), `c` is `m × n`, all
/// row-major with the given leading dimensions.
#[derive(Clone, Copy)]
pub(crate) struct F32Product {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub alpha: f32,
    pub a: *const f32,
    pub lda: usize,
    pub b: *const f32,
    pub ldb: usize,
    pub b_transposed: bool,
    pub c: *mut f32,
    pub ldc: usize,
    pub accumulate: bool,
}

/// Operands of `c = a · bᵀ` in integers: `a` is `m × k` `u8`, `b` is
/// `n × k` `i8` (one row per output column), `c` is `m × n` `i32`.
#[derive(Clone, Copy)]
pub(crate) struct Int8Product {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: *const u8,
    pub lda: usize,
    pub b: *const i8,
    pub ldb: usize,
    pub c: *mut i32,
    pub ldc: usize,
}

/// Operands of `c += a · b` with bf16 inputs (as `u16` bits) and f32
/// accumulation: `a` is `m × k`, `b` is `k × n`, `c` is `m × n`.
#[derive(Clone, Copy)]
pub(crate) struct Bf16Product {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: *const u16,
    pub lda: usize,
    pub b: *const u16,
    pub ldb: usize,
    pub c: *mut f32,
    pub ldc: usize,
}

/// A kernel library opened at run time. Its calls run on the calling thread
/// only.
pub(crate) trait ProductLibrary: Send + Sync {
    /// Short name (`onednn`, `mkl`).
    fn name(&self) -> &'static str;
    /// Version and where it was loaded from.
    fn description(&self) -> &str;
    /// # Safety
    /// The operands must describe valid, non-overlapping matrices.
    unsafe fn sgemm(&self, p: F32Product);
    /// # Safety
    /// As [`ProductLibrary::sgemm`].
    unsafe fn igemm(&self, p: Int8Product);
    /// Whether [`ProductLibrary::igemm`] gives the exact integers at this
    /// level (oneMKL's saturate without VNNI).
    fn exact_int8(&self, _isa: Isa) -> bool {
        true
    }
    /// Whether [`ProductLibrary::bf16gemm`] exists.
    fn has_bf16(&self) -> bool {
        false
    }
    /// Why there is no bf16 product, where the library can say.
    fn bf16_unavailable(&self) -> Option<&str> {
        None
    }
    /// # Safety
    /// As [`ProductLibrary::sgemm`]; only called when `has_bf16`.
    unsafe fn bf16gemm(&self, _p: Bf16Product) {
        unreachable!("{} has no bf16 product", self.name())
    }
    /// int8 weights (`n × k` rows, one per output column) laid out once for
    /// products of `tile_rows × k` activation tiles, where the library has
    /// such a product; else [`ProductLibrary::igemm`] serves.
    fn pack_int8(&self, _rows: &[i8], _shape: [usize; 2], _tile_rows: usize) -> Option<PackedInt8> {
        None
    }
}

/// Which products run in f32.
#[derive(Clone, Copy)]
pub enum F32Kernel {
    /// The `gemm` crate (candle's own), with its AVX2/FMA kernels.
    GemmCrate,
    /// A kernel library.
    #[allow(private_interfaces)]
    Library(&'static dyn ProductLibrary),
}

/// Which products run in int8.
#[derive(Clone, Copy)]
pub enum Int8Kernel {
    /// norsk's portable kernel.
    Portable,
    /// norsk's AVX2 kernel (`vpmaddubsw`).
    Avx2,
    /// norsk's AVX512-VNNI kernel (`vpdpbusd`).
    Avx512Vnni,
    /// A kernel library.
    #[allow(private_interfaces)]
    Library(&'static dyn ProductLibrary),
}

impl F32Kernel {
    /// The kernel's short name.
    pub fn name(&self) -> &'static str {
        match self {
            F32Kernel::GemmCrate => "gemm-crate",
            F32Kernel::Library(lib) => lib.name(),
        }
    }

    /// One product on this thread.
    ///
    /// # Safety
    /// As [`ProductLibrary::sgemm`].
    pub(crate) unsafe fn multiply(self, p: F32Product) {
        match self {
            F32Kernel::Library(library) => library.sgemm(p),
            F32Kernel::GemmCrate => {
                let b = if p.b_transposed {
                    Strided {
                        ptr: p.b,
                        row: 1,
                        col: p.ldb as isize,
                    }
                } else {
                    Strided::rows(p.b, p.ldb)
                };
                crate::product::multiply(
                    (p.m, p.n, p.k),
                    Strided::rows(p.c, p.ldc),
                    p.accumulate,
                    Strided::rows(p.a, p.lda),
                    b,
                    p.alpha,
                    gemm::Parallelism::None,
                );
            }
        }
    }
}

impl Int8Kernel {
    /// The kernel's short name.
    pub fn name(&self) -> &'static str {
        match self {
            Int8Kernel::Portable => "portable",
            Int8Kernel::Avx2 => "avx2",
            Int8Kernel::Avx512Vnni => "avx512-vnni",
            Int8Kernel::Library(lib) => lib.name(),
        }
    }
}

/// How many bits the int8 activations use. Weights always have eight
/// (`[-127, 127]`, one scale per output column). Where the product adds
/// `u8 × i8` quads straight into `i32` (AVX512-VNNI's `vpdpbusd`, AMX) the
/// activations have eight too; where it first adds pairs into saturating
/// `i16` (AVX2's `vpmaddubsw`, and the libraries below VNNI) they have six
/// (`[0, 63]`), so that even the sum of two pair sums cannot saturate
/// (`2 · 2 · 63 · 127 < 2¹⁵`) and norsk's AVX2 kernel widens two groups of
/// inputs into `i32` at once.
///
/// NorNE dev F1 of the shipped model (`norsk eval ner`, AMD EPYC Zen 3, AVX2
/// only; f32 nob 0.8602 / nno 0.8175): ONNX Runtime's "reduce range" (7-bit
/// weights, 8-bit activations) with the feed-forward output in f32 (the
/// earlier model lost 1.2 points with it in int8) 0.8620 / 0.8169 at
/// 2,161 / 2,044 words/s; 8-bit weights and 7-bit activations in every layer
/// 0.8620 / 0.8140; 6-bit activations 0.8615 / 0.8196 (5-bit 0.8622 /
/// 0.8162; 3-bit 0.29, so the levels are real).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Ranges {
    /// Activations in `[0, 255]`.
    Full,
    /// Activations in `[0, 63]`.
    SixBitActivations,
}

impl Int8Ranges {
    /// The ranges the int8 products may use on this kernel at this level:
    /// full for norsk's VNNI kernel and for a library from AVX512-VNNI up,
    /// else 6-bit activations.
    pub fn for_kernel(kernel: Int8Kernel, isa: Isa) -> Self {
        match kernel {
            Int8Kernel::Avx512Vnni => Int8Ranges::Full,
            Int8Kernel::Library(_) if isa >= Isa::Avx512Vnni => Int8Ranges::Full,
            _ => Int8Ranges::SixBitActivations,
        }
    }

    /// How many bits the activations use.
    pub fn activation_bits(self) -> u32 {
        match self {
            Int8Ranges::Full => 8,
            Int8Ranges::SixBitActivations => 6,
        }
    }

    /// The largest activation level (the smallest is 0).
    pub fn activation_max(self) -> f32 {
        ((1 << self.activation_bits()) - 1) as f32
    }
}

impl fmt::Display for Int8Ranges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-bit activations, 8-bit weights",
            self.activation_bits()
        )
    }
}

/// Which kernel library to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LibraryChoice {
    /// The fastest this CPU and machine have (see the module docs).
    #[default]
    Auto,
    /// norsk's own kernels and the `gemm` crate only.
    Own,
    /// oneDNN, or an error if it cannot be opened.
    OneDnn,
    /// oneMKL, or an error if it cannot be opened.
    Mkl,
}

impl FromStr for LibraryChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(LibraryChoice::Auto),
            "own" | "none" => Ok(LibraryChoice::Own),
            "onednn" | "dnnl" => Ok(LibraryChoice::OneDnn),
            "mkl" | "onemkl" => Ok(LibraryChoice::Mkl),
            other => Err(format!(
                "unknown kernel library {other:?} (expected auto, own, onednn or mkl)"
            )),
        }
    }
}

/// How to choose the kernels: the program fills this in, e.g. with
/// [`KernelOptions::from_env`].
#[derive(Debug, Clone, Default)]
pub struct KernelOptions {
    /// Use no instruction set above this one (to test lower paths, or to
    /// compare them), even where the CPU has more.
    pub isa_cap: Option<Isa>,
    /// Which library.
    pub library: LibraryChoice,
    /// Folders searched for the libraries before the system's own search.
    pub library_dirs: Vec<PathBuf>,
}

impl KernelOptions {
    /// The options a program reads from its environment: `NORSK_ISA` caps
    /// the instruction set (`portable`, `avx2`, `avx512`, `avx512-vnni`,
    /// `avx512-bf16`, `amx`), `NORSK_KERNELS` picks the library (`auto`,
    /// `own`, `onednn`, `mkl`) and `NORSK_KERNEL_LIBS` (a `:`-separated list
    /// of folders) is searched first for the libraries; then `extra_dirs`.
    pub fn from_env(extra_dirs: &[PathBuf]) -> Result<Self, KernelError> {
        let invalid = |variable: &'static str| {
            move |reason: String| KernelError::InvalidSetting { variable, reason }
        };
        let isa_cap = match std::env::var("NORSK_ISA") {
            Ok(v) if !v.is_empty() => Some(v.parse().map_err(invalid("NORSK_ISA"))?),
            _ => None,
        };
        let library = match std::env::var("NORSK_KERNELS") {
            Ok(v) if !v.is_empty() => v.parse().map_err(invalid("NORSK_KERNELS"))?,
            _ => LibraryChoice::default(),
        };
        let mut library_dirs: Vec<PathBuf> = std::env::var_os("NORSK_KERNEL_LIBS")
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default();
        library_dirs.extend_from_slice(extra_dirs);
        Ok(Self {
            isa_cap,
            library,
            library_dirs,
        })
    }
}

/// Why the kernels could not be chosen as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// [`configure`] came after the kernels were already in use.
    #[error("the kernels were already chosen (configure them before loading a model)")]
    AlreadyChosen,
    /// An environment variable holds a value that means nothing.
    #[error("{variable}: {reason}")]
    InvalidSetting {
        /// The variable.
        variable: &'static str,
        /// Why its value was refused.
        reason: String,
    },
    /// The library asked for cannot be used.
    #[error("kernel library {library} cannot be used: {reason}")]
    Unavailable {
        /// The library's name.
        library: &'static str,
        /// What was tried.
        reason: String,
    },
}

/// The kernels this process runs, and why.
pub struct Kernels {
    /// What the CPU has.
    pub cpu: CpuFeatures,
    /// The level the kernels may use: the CPU's, or the cap if lower.
    pub isa: Isa,
    /// The f32 products.
    pub f32: F32Kernel,
    /// The int8 products.
    pub int8: Int8Kernel,
    /// How the int8 operands share their bits on [`Kernels::int8`].
    pub int8_ranges: Int8Ranges,
    /// The bf16 products, where the CPU has bf16 hardware and a library
    /// offers them; `None` means `--precision bf16` runs the f32 products.
    pub(crate) bf16: Option<&'static dyn ProductLibrary>,
    /// One line per decision.
    pub reasons: Vec<String>,
}

impl Kernels {
    /// The library that runs the bf16 products, if this CPU has them;
    /// `None`: `--precision bf16` runs the f32 products.
    pub fn bf16_products(&self) -> Option<&'static str> {
        self.bf16.map(|lib| lib.name())
    }
}

static CHOSEN: OnceLock<Kernels> = OnceLock::new();

/// Chooses the kernels once for this process. Call it before any model is
/// loaded; afterwards it fails with [`KernelError::AlreadyChosen`].
pub fn configure(options: &KernelOptions) -> Result<&'static Kernels, KernelError> {
    let mut result = Err(KernelError::AlreadyChosen);
    CHOSEN.get_or_init(|| match choose(options) {
        Ok(kernels) => {
            result = Ok(());
            kernels
        }
        Err(e) => {
            result = Err(e);
            choose(&KernelOptions {
                library: LibraryChoice::Own,
                ..options.clone()
            })
            .expect("norsk's own kernels are always there")
        }
    });
    result.map(|()| CHOSEN.get().expect("set above"))
}

/// The kernels in use: those [`configure`] chose, or else the automatic
/// choice with the system's library search only.
pub fn selected() -> &'static Kernels {
    CHOSEN.get_or_init(|| {
        choose(&KernelOptions::default()).expect("the automatic choice always succeeds")
    })
}

fn choose(options: &KernelOptions) -> Result<Kernels, KernelError> {
    let cpu = CpuFeatures::detect();
    let isa = options.isa_cap.map_or(cpu.isa, |cap| cap.min(cpu.isa));
    let mut reasons = Vec::new();
    if options.isa_cap.is_some_and(|cap| cap < cpu.isa) {
        reasons.push(format!(
            "instruction set capped at {isa} (the CPU has {})",
            cpu.isa
        ));
    }
    let own_int8 = if isa >= Isa::Avx512Vnni {
        Int8Kernel::Avx512Vnni
    } else if isa >= Isa::Avx2 {
        Int8Kernel::Avx2
    } else {
        Int8Kernel::Portable
    };
    let dirs = &options.library_dirs;
    let library: Option<&'static dyn ProductLibrary> = match options.library {
        LibraryChoice::Own => {
            reasons.push("kernel library: none (asked for norsk's own kernels)".into());
            None
        }
        LibraryChoice::OneDnn | LibraryChoice::Mkl => {
            let (name, lib) = match options.library {
                LibraryChoice::Mkl => ("mkl", mkl(dirs, isa)),
                _ => ("onednn", onednn(dirs, isa)),
            };
            let lib = lib.map_err(|reason| KernelError::Unavailable {
                library: name,
                reason,
            })?;
            reasons.push(format!("kernel library: {} (asked for)", lib.description()));
            Some(lib)
        }
        LibraryChoice::Auto if isa < Isa::Avx2 => {
            reasons.push(format!(
                "kernel library: none ({isa}: the libraries need AVX2)"
            ));
            None
        }
        LibraryChoice::Auto => {
            let mut tried = Vec::new();
            let mut found = None;
            if cpu.vendor == Vendor::Intel && isa >= Isa::Avx512 {
                match mkl(dirs, isa) {
                    Ok(lib) => found = Some(lib),
                    Err(e) => tried.push(format!("oneMKL: {e}")),
                }
            }
            if found.is_none() {
                match onednn(dirs, isa) {
                    Ok(lib) => found = Some(lib),
                    Err(e) => tried.push(format!("oneDNN: {e}")),
                }
            }
            match found {
                Some(lib) => reasons.push(format!(
                    "kernel library: {} ({} CPU at {isa}; oneMKL is chosen on Intel CPUs with AVX-512, oneDNN elsewhere)",
                    lib.description(),
                    cpu.vendor
                )),
                None => reasons.push(format!(
                    "kernel library: none found, norsk's own kernels ({})",
                    tried.join("; ")
                )),
            }
            found
        }
    };
    let (f32, int8) = match library {
        Some(lib) if isa >= Isa::Avx512Vnni && lib.exact_int8(isa) => {
            (F32Kernel::Library(lib), Int8Kernel::Library(lib))
        }
        Some(lib) => {
            reasons.push(format!(
                "int8 products: norsk's own at {isa} (oneMKL's saturate below AVX512-VNNI and on CPUs not Intel's; below VNNI oneDNN's ran slower than norsk's AVX2 kernel)"
            ));
            (F32Kernel::Library(lib), own_int8)
        }
        None => (F32Kernel::GemmCrate, own_int8),
    };
    let int8_ranges = Int8Ranges::for_kernel(int8, isa);
    reasons.push(match int8_ranges {
        Int8Ranges::Full => format!(
            "int8 operands: {int8_ranges} ({isa}: the products add u8 × i8 quads into i32 exactly)"
        ),
        Int8Ranges::SixBitActivations => format!(
            "int8 operands: {int8_ranges} ({} products add pairs in saturating i16)",
            int8.name()
        ),
    });
    let bf16 = library.filter(|lib| lib.has_bf16() && isa.has_bf16());
    reasons.push(match bf16 {
        Some(lib) => format!("bf16 products: {} (the CPU has bf16 hardware: {isa})", lib.name()),
        None if !isa.has_bf16() => {
            format!("bf16 products: none, --precision bf16 runs the f32 products ({isa} has no bf16 hardware)")
        }
        None => format!(
            "bf16 products: none, --precision bf16 runs the f32 products ({})",
            library
                .and_then(|lib| lib.bf16_unavailable().map(|why| format!("{}: {why}", lib.name())))
                .unwrap_or_else(|| "no kernel library with a bf16 product".into())
        ),
    });
    Ok(Kernels {
        cpu,
        isa,
        f32,
        int8,
        int8_ranges,
        bf16,
        reasons,
    })
}

static ONEDNN: OnceLock<Result<onednn::OneDnn, String>> = OnceLock::new();
static MKL: OnceLock<Result<mkl::Mkl, String>> = OnceLock::new();

/// oneDNN, opened once per process (its instruction-set limit can be set
/// only before its first use).
fn onednn(dirs: &[PathBuf], isa: Isa) -> Result<&'static dyn ProductLibrary, String> {
    match ONEDNN.get_or_init(|| onednn::OneDnn::load(dirs, isa)) {
        Ok(lib) => Ok(lib),
        Err(e) => Err(e.clone()),
    }
}

/// oneMKL, opened once per process.
fn mkl(dirs: &[PathBuf], isa: Isa) -> Result<&'static dyn ProductLibrary, String> {
    match MKL.get_or_init(|| mkl::Mkl::load(dirs, isa)) {
        Ok(lib) => Ok(lib),
        Err(e) => Err(e.clone()),
    }
}

impl fmt::Display for Kernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cpu: {} ({}; flags: {})",
            self.cpu.vendor,
            self.cpu.isa,
            self.cpu.flags.join(" ")
        )?;
        writeln!(f, "kernels at: {}", self.isa)?;
        writeln!(f, "f32 products: {}", self.f32.name())?;
        writeln!(
            f,
            "int8 products: {} ({})",
            self.int8.name(),
            self.int8_ranges
        )?;
        writeln!(
            f,
            "bf16 products: {}",
            self.bf16
                .map_or("f32 products (fallback)", |lib| lib.name())
        )?;
        writeln!(
            f,
            "per-value work (GELU, softmax, layer norm, int8 row ranges): {}",
            crate::fast_math::Width::of(self.isa)
        )?;
        for reason in &self.reasons {
            writeln!(f, "  {reason}")?;
        }
        Ok(())
    }
}

/// A pointer that may cross to rayon's threads: each task writes its own
/// disjoint block through it.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut<T>(pub *mut T);
// Safety: users write disjoint parts only (see `column_blocks`).
unsafe impl<T> Send for SharedMut<T> {}
unsafe impl<T> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// The pointer (a method, so that closures capture the whole wrapper).
    pub fn get(self) -> *mut T {
        self.0
    }
}

/// Columns per block at least, so each library call has work enough.
const MIN_BLOCK_COLUMNS: usize = 64;

/// Cuts `n` output columns into one block per thread (multiples of 16
/// columns) and runs `block(start, end)` for each on rayon's threads.
pub(crate) fn column_blocks(n: usize, block: impl Fn(usize, usize) + Sync) {
    let threads = candle_core::utils::get_num_threads().max(1);
    let blocks = threads.min(n.div_ceil(MIN_BLOCK_COLUMNS)).max(1);
    let width = n.div_ceil(blocks).div_ceil(16) * 16;
    (0..n.div_ceil(width))
        .into_par_iter()
        .for_each(|i| block(i * width, ((i + 1) * width).min(n)));
}

/// Every library this machine can open for tests, at the CPU's own level
/// (for int8, filter with [`ProductLibrary::exact_int8`]):
/// from `target/kernel-libs` (where `scripts/setup.sh` puts oneMKL) and the
/// system's search.
#[cfg(test)]
pub(crate) fn test_libraries() -> Vec<&'static dyn ProductLibrary> {
    let dirs = [PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/kernel-libs")];
    let isa = CpuFeatures::detect().isa;
    [onednn(&dirs, isa), mkl(&dirs, isa)]
        .into_iter()
        .filter_map(Result::ok)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_blocks_cover_every_column_once() {
        for n in [1, 15, 16, 64, 100, 768, 3072, 3073] {
            let seen: Vec<std::sync::atomic::AtomicU32> = (0..n)
                .map(|_| std::sync::atomic::AtomicU32::new(0))
                .collect();
            column_blocks(n, |start, end| {
                assert!(start < end && end <= n);
                for s in &seen[start..end] {
                    s.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
            assert!(
                seen.iter()
                    .all(|s| s.load(std::sync::atomic::Ordering::Relaxed) == 1),
                "n={n}"
            );
        }
    }

    #[test]
    fn choices_parse_and_unknown_ones_say_what_is_expected() {
        assert_eq!("oneDNN".parse::<LibraryChoice>(), Ok(LibraryChoice::OneDnn));
        assert_eq!("own".parse::<LibraryChoice>(), Ok(LibraryChoice::Own));
        assert!("blas"
            .parse::<LibraryChoice>()
            .unwrap_err()
            .contains("onednn"));
    }

    #[test]
    fn a_capped_choice_never_exceeds_the_cap_and_says_why() {
        let kernels = choose(&KernelOptions {
            isa_cap: Some(Isa::Portable),
            ..KernelOptions::default()
        })
        .unwrap();
        assert_eq!(kernels.isa, Isa::Portable);
        assert_eq!(kernels.int8.name(), "portable");
        assert_eq!(kernels.f32.name(), "gemm-crate");
        assert!(kernels.bf16.is_none());
        assert!(kernels
            .to_string()
            .contains("bf16 products: f32 products (fallback)"));
        assert!(kernels.to_string().contains("int8 row ranges): scalar"));
    }

    #[test]
    fn a_missing_library_is_reported_not_fatal() {
        // oneMKL is looked for only in the given folders (never through the
        // cache shared with the other tests).
        let err = mkl::Mkl::load(&[PathBuf::from("/nonexistent")], Isa::Avx2)
            .err()
            .unwrap();
        assert!(err.contains("not found"), "{err}");
        let own = choose(&KernelOptions {
            library: LibraryChoice::Own,
            ..KernelOptions::default()
        })
        .unwrap();
        assert_eq!(own.f32.name(), "gemm-crate");
    }

    #[test]
    fn no_mkl_int8_below_vnni_or_off_intel() {
        let cpu = CpuFeatures::detect();
        let dirs = [PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/kernel-libs")];
        if (cpu.isa >= Isa::Avx512Vnni && cpu.vendor == Vendor::Intel)
            || mkl(&dirs, cpu.isa).is_err()
        {
            return; // nothing to check on this machine
        }
        let kernels = choose(&KernelOptions {
            library: LibraryChoice::Mkl,
            library_dirs: dirs.to_vec(),
            ..KernelOptions::default()
        })
        .unwrap();
        assert_eq!(kernels.f32.name(), "mkl");
        assert_ne!(kernels.int8.name(), "mkl");
        assert!(kernels.to_string().contains("saturate below AVX512-VNNI"));
    }
}
