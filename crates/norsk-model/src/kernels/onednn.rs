//! oneDNN's BLAS-like products (`dnnl_sgemm`, `dnnl_gemm_u8s8s32`) and, with
//! oneDNN 2, its matmul primitive ([`Matmul`]) for bf16 on CPUs with bf16
//! hardware and for int8 on weights packed at load from VNNI up, opened at
//! run time from `libdnnl.so` (Debian's `libdnnl2` or `libdnnl3`,
//! or any oneDNN build on the library path). oneDNN chooses its own JIT
//! kernels from the CPU's features (AVX2, AVX-512, VNNI, AVX512-BF16, AMX)
//! whatever its maker.

use std::ffi::c_char;
use std::path::PathBuf;

use super::dynlib::SharedLibrary;
use super::onednn_matmul::{Matmul, Operands, PackedInt8};
use super::{Isa, ProductLibrary};

type Dim = i64;
type Sgemm = unsafe extern "C" fn(
    c_char,
    c_char,
    Dim,
    Dim,
    Dim,
    f32,
    *const f32,
    Dim,
    *const f32,
    Dim,
    f32,
    *mut f32,
    Dim,
) -> i32;
type GemmU8S8S32 = unsafe extern "C" fn(
    c_char,
    c_char,
    c_char,
    Dim,
    Dim,
    Dim,
    f32,
    *const u8,
    Dim,
    u8,
    *const i8,
    Dim,
    i8,
    f32,
    *mut i32,
    Dim,
    *const i32,
) -> i32;
type SetMaxCpuIsa = unsafe extern "C" fn(u32) -> i32;
type OmpSetNumThreads = unsafe extern "C" fn(i32);

#[repr(C)]
struct Version {
    major: i32,
    minor: i32,
    patch: i32,
}
type GetVersion = unsafe extern "C" fn() -> *const Version;

/// The oneDNN functions norsk calls.
pub(crate) struct OneDnn {
    sgemm: Sgemm,
    gemm_u8s8s32: GemmU8S8S32,
    omp_set_num_threads: Option<OmpSetNumThreads>,
    /// The bf16 products, or why there are none.
    bf16: Result<Matmul, String>,
    /// The int8 matmul on reordered weights, where oneDNN 2 has a fast one
    /// (from VNNI up).
    int8: Option<Matmul>,
    description: String,
}

impl OneDnn {
    /// Opens oneDNN and limits it to `isa` (it must not use more than the
    /// rest of norsk was allowed).
    pub fn load(dirs: &[PathBuf], isa: Isa) -> Result<Self, String> {
        let lib = SharedLibrary::open(&["libdnnl.so.3", "libdnnl.so.2", "libdnnl.so"], dirs)?;
        // Safety: the signatures are oneDNN's C API (dnnl.h), the same in
        // versions 2 and 3.
        unsafe {
            let set_max_cpu_isa: SetMaxCpuIsa = lib.function("dnnl_set_max_cpu_isa")?;
            let version: GetVersion = lib.function("dnnl_version")?;
            let limit = match isa {
                Isa::Portable => return Err("no product kernels below AVX2".into()),
                Isa::Avx2 => 0x7,
                Isa::Avx512 => 0x27,
                Isa::Avx512Vnni => 0x67,
                Isa::Avx512Bf16 => 0xe7,
                Isa::Amx => 0x3e7,
            };
            // Fails only if oneDNN already dispatched, which it has not.
            set_max_cpu_isa(limit);
            let v = &*version();
            let bf16 = if !isa.has_bf16() {
                Err(format!("{isa} has no bf16 hardware"))
            } else if v.major == 2 {
                Matmul::load(&lib, Operands::Bf16)
            } else {
                Err(format!(
                    "its matmul is called through oneDNN 2's C API, this is oneDNN {}",
                    v.major
                ))
            };
            // From VNNI up the matmul's brgemm kernels serve int8; below,
            // oneDNN's int8 is not chosen at all.
            let int8 = (v.major == 2 && isa >= Isa::Avx512Vnni)
                .then(|| Matmul::load(&lib, Operands::Int8).ok())
                .flatten();
            let mut description = format!(
                "oneDNN {}.{}.{} ({}",
                v.major,
                v.minor,
                v.patch,
                lib.path.display()
            );
            if let Ok(matmul) = &bf16 {
                description += &format!("; bf16 matmul: {}", matmul.implementation);
            }
            if let Some(matmul) = &int8 {
                description += &format!("; int8 matmul: {}", matmul.implementation);
            }
            description += ")";
            let one_dnn = Self {
                sgemm: lib.function("dnnl_sgemm")?,
                gemm_u8s8s32: lib.function("dnnl_gemm_u8s8s32")?,
                omp_set_num_threads: lib.function("omp_set_num_threads").ok(),
                bf16,
                int8,
                description,
            };
            std::mem::forget(lib);
            Ok(one_dnn)
        }
    }

    /// One thread per call: norsk runs one call per thread on its own
    /// workers. With an OpenMP team per call instead, the team's threads
    /// spin after each product while rayon's threads want the cores for the
    /// next op (the int8 pass at 1 × 128 ran at 567 tokens/s that way,
    /// 707 without oneDNN).
    fn single_threaded(&self) {
        if let Some(set) = self.omp_set_num_threads {
            // Safety: sets the calling thread's OpenMP team size.
            unsafe { set(1) }
        }
    }
}

impl ProductLibrary for OneDnn {
    fn name(&self) -> &'static str {
        "onednn"
    }

    fn description(&self) -> &str {
        &self.description
    }

    unsafe fn sgemm(&self, p: super::F32Product) {
        self.single_threaded();
        let status = (self.sgemm)(
            b'N' as c_char,
            if p.b_transposed { b'T' } else { b'N' } as c_char,
            p.m as Dim,
            p.n as Dim,
            p.k as Dim,
            p.alpha,
            p.a,
            p.lda as Dim,
            p.b,
            p.ldb as Dim,
            if p.accumulate { 1.0 } else { 0.0 },
            p.c,
            p.ldc as Dim,
        );
        assert_eq!(status, 0, "dnnl_sgemm rejected its arguments");
    }

    fn has_bf16(&self) -> bool {
        self.bf16.is_ok()
    }

    fn bf16_unavailable(&self) -> Option<&str> {
        self.bf16.as_ref().err().map(String::as_str)
    }

    unsafe fn bf16gemm(&self, p: super::Bf16Product) {
        self.bf16
            .as_ref()
            .expect("only called when has_bf16")
            .bf16(p);
    }

    unsafe fn igemm(&self, p: super::Int8Product) {
        self.single_threaded();
        let zero = 0i32;
        let status = (self.gemm_u8s8s32)(
            b'N' as c_char,
            b'T' as c_char,
            b'F' as c_char,
            p.m as Dim,
            p.n as Dim,
            p.k as Dim,
            1.0,
            p.a,
            p.lda as Dim,
            0,
            p.b,
            p.ldb as Dim,
            0,
            0.0,
            p.c,
            p.ldc as Dim,
            &zero,
        );
        assert_eq!(status, 0, "dnnl_gemm_u8s8s32 rejected its arguments");
    }

    fn pack_int8(&self, rows: &[i8], [n, k]: [usize; 2], tile_rows: usize) -> Option<PackedInt8> {
        // Safety: an int8 matmul; `rows` is checked to hold n × k values.
        self.int8
            .as_ref()
            .and_then(|matmul| unsafe { matmul.pack_int8(rows, [n, k], tile_rows) }.ok())
    }
}
