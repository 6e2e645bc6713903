//! Intel oneMKL's products (`cblas_sgemm`, `cblas_gemm_s8u8s32`,
//! `cblas_gemm_bf16bf16f32`), opened at run time from `libmkl_rt.so`, in its
//! sequential threading layer (norsk splits the work over its own threads).
//! oneMKL picks AVX-512, VNNI, AVX512-BF16 and AMX kernels on Intel CPUs; on
//! other makers' CPUs it runs generic code, so norsk chooses it on Intel only.

use std::path::{Path, PathBuf};

use super::dynlib::SharedLibrary;
use super::{Isa, ProductLibrary};

type Int = i32;
const ROW_MAJOR: Int = 101;
const NO_TRANS: Int = 111;
const TRANS: Int = 112;
const FIX_OFFSET: Int = 171;
const THREADING_SEQUENTIAL: Int = 1;

type Sgemm = unsafe extern "C" fn(
    Int,
    Int,
    Int,
    Int,
    Int,
    Int,
    f32,
    *const f32,
    Int,
    *const f32,
    Int,
    f32,
    *mut f32,
    Int,
);
type GemmS8U8S32 = unsafe extern "C" fn(
    Int,
    Int,
    Int,
    Int,
    Int,
    Int,
    Int,
    f32,
    *const u8,
    Int,
    i8,
    *const i8,
    Int,
    i8,
    f32,
    *mut i32,
    Int,
    *const i32,
);
type GemmBf16 = unsafe extern "C" fn(
    Int,
    Int,
    Int,
    Int,
    Int,
    Int,
    f32,
    *const u16,
    Int,
    *const u16,
    Int,
    f32,
    *mut f32,
    Int,
);
type ServiceInt = unsafe extern "C" fn(Int) -> Int;
type VersionString = unsafe extern "C" fn(*mut u8, Int);

/// oneMKL's run-time library loads these by name from its own folder and
/// ends the process if one is missing, so all must be there before it is
/// opened.
const COMPANIONS: [&str; 3] = [
    "libmkl_core.so",
    "libmkl_sequential.so",
    "libmkl_intel_lp64.so",
];

/// The oneMKL functions norsk calls.
pub(crate) struct Mkl {
    sgemm: Sgemm,
    gemm_s8u8s32: GemmS8U8S32,
    gemm_bf16: GemmBf16,
    description: String,
}

impl Mkl {
    /// Opens oneMKL from one of `dirs` (never from the system search: its
    /// companions must be checked first) and limits it to `isa`.
    pub fn load(dirs: &[PathBuf], isa: Isa) -> Result<Self, String> {
        let dir = dirs
            .iter()
            .find(|d| d.join("libmkl_rt.so.3").is_file() || d.join("libmkl_rt.so.2").is_file())
            .ok_or_else(|| "libmkl_rt.so not found in the kernel library folders".to_string())?;
        let suffix = if dir.join("libmkl_rt.so.3").is_file() {
            ".3"
        } else {
            ".2"
        };
        check_companions(dir, suffix)?;
        let lib = SharedLibrary::open(
            &[&format!("libmkl_rt.so{suffix}")],
            std::slice::from_ref(dir),
        )?;
        // Safety: the signatures are oneMKL's C API (mkl_cblas.h,
        // mkl_service.h); the threading layer is set before any other call.
        unsafe {
            let set_layer: ServiceInt = lib.function("MKL_Set_Threading_Layer")?;
            set_layer(THREADING_SEQUENTIAL);
            let enable: ServiceInt = lib.function("MKL_Enable_Instructions")?;
            let limit = match isa {
                Isa::Portable => return Err("no product kernels below AVX2".into()),
                Isa::Avx2 => Some(2),
                Isa::Avx512 => Some(4),
                Isa::Avx512Vnni => Some(6),
                Isa::Avx512Bf16 => Some(7),
                Isa::Amx => None,
            };
            if let Some(limit) = limit {
                enable(limit);
            }
            let version: VersionString = lib.function("MKL_Get_Version_String")?;
            let mut buffer = [0u8; 256];
            version(buffer.as_mut_ptr(), buffer.len() as Int);
            let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
            let description = format!(
                "{} ({})",
                String::from_utf8_lossy(&buffer[..end]).trim(),
                lib.path.display()
            );
            let mkl = Self {
                sgemm: lib.function("cblas_sgemm")?,
                gemm_s8u8s32: lib.function("cblas_gemm_s8u8s32")?,
                gemm_bf16: lib.function("cblas_gemm_bf16bf16f32")?,
                description,
            };
            std::mem::forget(lib);
            Ok(mkl)
        }
    }
}

fn check_companions(dir: &Path, suffix: &str) -> Result<(), String> {
    let missing: Vec<String> = COMPANIONS
        .iter()
        .map(|name| format!("{name}{suffix}"))
        .filter(|name| !dir.join(name).is_file())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("{} lacks {}", dir.display(), missing.join(", ")))
    }
}

impl ProductLibrary for Mkl {
    fn name(&self) -> &'static str {
        "mkl"
    }

    fn description(&self) -> &str {
        &self.description
    }

    unsafe fn sgemm(&self, p: super::F32Product) {
        (self.sgemm)(
            ROW_MAJOR,
            NO_TRANS,
            if p.b_transposed { TRANS } else { NO_TRANS },
            p.m as Int,
            p.n as Int,
            p.k as Int,
            p.alpha,
            p.a,
            p.lda as Int,
            p.b,
            p.ldb as Int,
            if p.accumulate { 1.0 } else { 0.0 },
            p.c,
            p.ldc as Int,
        );
    }

    unsafe fn igemm(&self, p: super::Int8Product) {
        let zero = 0i32;
        (self.gemm_s8u8s32)(
            ROW_MAJOR,
            NO_TRANS,
            TRANS,
            FIX_OFFSET,
            p.m as Int,
            p.n as Int,
            p.k as Int,
            1.0,
            p.a,
            p.lda as Int,
            0,
            p.b,
            p.ldb as Int,
            0,
            0.0,
            p.c,
            p.ldc as Int,
            &zero,
        );
    }

    /// Only on Intel CPUs from AVX512-VNNI up: below VNNI its pair sums
    /// saturate, and on an AMD EPYC with AVX512-VNNI (Zen 4) it still ran a
    /// saturating kernel (wrong integers with 8-bit weights at 1 × 5 × 3).
    fn exact_int8(&self, isa: Isa) -> bool {
        isa >= Isa::Avx512Vnni && super::CpuFeatures::detect().vendor == super::Vendor::Intel
    }

    fn has_bf16(&self) -> bool {
        true
    }

    unsafe fn bf16gemm(&self, p: super::Bf16Product) {
        (self.gemm_bf16)(
            ROW_MAJOR,
            NO_TRANS,
            NO_TRANS,
            p.m as Int,
            p.n as Int,
            p.k as Int,
            1.0,
            p.a,
            p.lda as Int,
            p.b,
            p.ldb as Int,
            1.0,
            p.c,
            p.ldc as Int,
        );
    }
}
