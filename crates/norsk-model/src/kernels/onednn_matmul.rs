//! bf16 products with f32 accumulation on oneDNN's matmul primitive (its
//! BLAS-like API has none), through oneDNN 2's C API (`dnnl.h`): the
//! library Debian ships as `libdnnl2`. oneDNN picks its own kernels for the
//! CPU (AVX512-BF16, AMX-BF16) whatever its maker; a primitive is made once
//! per product shape and kept.
//!
//! oneDNN 2's descriptors are C structs that norsk only ever hands back to
//! oneDNN, so they live in opaque buffers larger than any version's struct.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr};
use std::sync::{Arc, Mutex};

use super::dynlib::SharedLibrary;
use super::Bf16Product;

type Status = i32;
type Handle = *mut c_void;
type Dims = [i64; 12];

/// Room for a `dnnl_memory_desc_t` (under 1 KiB in oneDNN 2).
type MemoryDesc = [u64; 512];
/// Room for a `dnnl_matmul_desc_t` (four memory descriptors and a little).
type MatmulDesc = [u64; 2048];

const ENGINE_CPU: i32 = 1;
const STREAM_DEFAULT_FLAGS: u32 = 1;
const BF16: i32 = 2;
const F32: i32 = 3;
const ARG_SRC: i32 = 1;
const ARG_DST: i32 = 17;
const ARG_WEIGHTS: i32 = 33;
const QUERY_IMPL_INFO_STR: i32 = 8;
/// Primitives kept at most (one per product shape; each holds JIT code).
const MAX_PRIMITIVES: usize = 512;

#[repr(C)]
struct ExecArg {
    arg: i32,
    memory: Handle,
}

/// The oneDNN 2 functions the matmul needs.
#[derive(Clone, Copy)]
struct Api {
    engine_create: unsafe extern "C" fn(*mut Handle, i32, usize) -> Status,
    stream_create: unsafe extern "C" fn(*mut Handle, Handle, u32) -> Status,
    memory_desc_init_by_strides:
        unsafe extern "C" fn(*mut MemoryDesc, i32, *const i64, i32, *const i64) -> Status,
    matmul_desc_init: unsafe extern "C" fn(
        *mut MatmulDesc,
        *const MemoryDesc,
        *const MemoryDesc,
        *const MemoryDesc,
        *const MemoryDesc,
    ) -> Status,
    primitive_attr_create: unsafe extern "C" fn(*mut Handle) -> Status,
    primitive_attr_destroy: unsafe extern "C" fn(Handle) -> Status,
    post_ops_create: unsafe extern "C" fn(*mut Handle) -> Status,
    post_ops_destroy: unsafe extern "C" fn(Handle) -> Status,
    post_ops_append_sum: unsafe extern "C" fn(Handle, f32) -> Status,
    primitive_attr_set_post_ops: unsafe extern "C" fn(Handle, Handle) -> Status,
    primitive_desc_create:
        unsafe extern "C" fn(*mut Handle, *const MatmulDesc, Handle, Handle, Handle) -> Status,
    primitive_desc_query: unsafe extern "C" fn(Handle, i32, i32, *mut c_void) -> Status,
    primitive_desc_destroy: unsafe extern "C" fn(Handle) -> Status,
    primitive_create: unsafe extern "C" fn(*mut Handle, Handle) -> Status,
    memory_create: unsafe extern "C" fn(*mut Handle, *const MemoryDesc, Handle, Handle) -> Status,
    memory_destroy: unsafe extern "C" fn(Handle) -> Status,
    primitive_execute: unsafe extern "C" fn(Handle, Handle, i32, *const ExecArg) -> Status,
    stream_wait: unsafe extern "C" fn(Handle) -> Status,
}

/// The shape of one product: `m`, `n`, `k` and the leading dimensions.
type Shape = [usize; 6];

/// A matmul primitive for one shape, with the descriptors of its operands.
struct Primitive {
    primitive: Handle,
    src: Box<MemoryDesc>,
    weights: Box<MemoryDesc>,
    dst: Box<MemoryDesc>,
}

/// oneDNN's bf16 matmul, ready to run.
pub(crate) struct Bf16Matmul {
    api: Api,
    engine: Handle,
    primitives: Mutex<HashMap<Shape, Arc<Primitive>>>,
    /// oneDNN's name for the kernel it picked (e.g. `brg:avx512_core_bf16`).
    pub implementation: String,
}

// Safety: oneDNN's engines and primitives may be used from any thread (each
// thread runs them on its own stream); the descriptors are only read.
unsafe impl Send for Bf16Matmul {}
unsafe impl Sync for Bf16Matmul {}
unsafe impl Send for Primitive {}
unsafe impl Sync for Primitive {}

thread_local! {
    /// This thread's oneDNN stream (oneDNN's streams are not shared).
    static STREAM: Cell<Handle> = const { Cell::new(std::ptr::null_mut()) };
}

fn check(status: Status, what: &str) -> Result<(), String> {
    if status == 0 {
        Ok(())
    } else {
        Err(format!("{what} failed (oneDNN status {status})"))
    }
}

impl Bf16Matmul {
    /// Finds the matmul functions in oneDNN 2 and makes one primitive to see
    /// which kernel oneDNN picks; refuses its reference (scalar) kernel.
    ///
    /// # Safety
    /// `lib` must be oneDNN 2 (the descriptors differ in oneDNN 3) and stay
    /// loaded for the life of the process.
    pub unsafe fn load(lib: &SharedLibrary) -> Result<Self, String> {
        let api = Api {
            engine_create: lib.function("dnnl_engine_create")?,
            stream_create: lib.function("dnnl_stream_create")?,
            memory_desc_init_by_strides: lib.function("dnnl_memory_desc_init_by_strides")?,
            matmul_desc_init: lib.function("dnnl_matmul_desc_init")?,
            primitive_attr_create: lib.function("dnnl_primitive_attr_create")?,
            primitive_attr_destroy: lib.function("dnnl_primitive_attr_destroy")?,
            post_ops_create: lib.function("dnnl_post_ops_create")?,
            post_ops_destroy: lib.function("dnnl_post_ops_destroy")?,
            post_ops_append_sum: lib.function("dnnl_post_ops_append_sum")?,
            primitive_attr_set_post_ops: lib.function("dnnl_primitive_attr_set_post_ops")?,
            primitive_desc_create: lib.function("dnnl_primitive_desc_create")?,
            primitive_desc_query: lib.function("dnnl_primitive_desc_query")?,
            primitive_desc_destroy: lib.function("dnnl_primitive_desc_destroy")?,
            primitive_create: lib.function("dnnl_primitive_create")?,
            memory_create: lib.function("dnnl_memory_create")?,
            memory_destroy: lib.function("dnnl_memory_destroy")?,
            primitive_execute: lib.function("dnnl_primitive_execute")?,
            stream_wait: lib.function("dnnl_stream_wait")?,
        };
        let mut engine = std::ptr::null_mut();
        check(
            (api.engine_create)(&mut engine, ENGINE_CPU, 0),
            "dnnl_engine_create",
        )?;
        let mut matmul = Self {
            api,
            engine,
            primitives: Mutex::new(HashMap::new()),
            implementation: String::new(),
        };
        let (primitive, implementation) = matmul.create([64, 64, 64, 64, 64, 64])?;
        if implementation.starts_with("ref") {
            return Err(format!(
                "oneDNN's bf16 matmul here is its reference kernel ({implementation})"
            ));
        }
        matmul.implementation = implementation;
        matmul
            .primitives
            .lock()
            .expect("not poisoned")
            .insert([64, 64, 64, 64, 64, 64], Arc::new(primitive));
        Ok(matmul)
    }

    /// A row-major `rows × cols` descriptor whose rows are `ld` apart.
    unsafe fn desc(
        &self,
        rows: usize,
        cols: usize,
        ld: usize,
        dtype: i32,
    ) -> Result<Box<MemoryDesc>, String> {
        let mut desc = Box::new([0u64; 512]);
        let mut dims: Dims = [0; 12];
        let mut strides: Dims = [0; 12];
        dims[..2].copy_from_slice(&[rows as i64, cols as i64]);
        strides[..2].copy_from_slice(&[ld as i64, 1]);
        check(
            (self.api.memory_desc_init_by_strides)(
                &mut *desc,
                2,
                dims.as_ptr(),
                dtype,
                strides.as_ptr(),
            ),
            "dnnl_memory_desc_init_by_strides",
        )?;
        Ok(desc)
    }

    /// Makes the primitive `dst += src · weights` for one shape, and says
    /// which kernel oneDNN picked for it.
    unsafe fn create(
        &self,
        [m, n, k, lda, ldb, ldc]: Shape,
    ) -> Result<(Primitive, String), String> {
        let api = &self.api;
        let src = self.desc(m, k, lda, BF16)?;
        let weights = self.desc(k, n, ldb, BF16)?;
        let dst = self.desc(m, n, ldc, F32)?;
        let mut op = Box::new([0u64; 2048]);
        check(
            (api.matmul_desc_init)(&mut *op, &*src, &*weights, std::ptr::null(), &*dst),
            "dnnl_matmul_desc_init",
        )?;
        // The sum post-op adds the product to what `dst` holds (the bias).
        let (mut attr, mut post_ops) = (std::ptr::null_mut(), std::ptr::null_mut());
        check(
            (api.primitive_attr_create)(&mut attr),
            "dnnl_primitive_attr_create",
        )?;
        check((api.post_ops_create)(&mut post_ops), "dnnl_post_ops_create")?;
        let made = (|| -> Result<(Handle, String), String> {
            check(
                (api.post_ops_append_sum)(post_ops, 1.0),
                "dnnl_post_ops_append_sum",
            )?;
            check(
                (api.primitive_attr_set_post_ops)(attr, post_ops),
                "dnnl_primitive_attr_set_post_ops",
            )?;
            let mut desc = std::ptr::null_mut();
            check(
                (api.primitive_desc_create)(
                    &mut desc,
                    &*op,
                    attr,
                    self.engine,
                    std::ptr::null_mut(),
                ),
                "dnnl_primitive_desc_create (bf16 matmul)",
            )?;
            let mut name: *const c_char = std::ptr::null();
            let implementation = if (api.primitive_desc_query)(
                desc,
                QUERY_IMPL_INFO_STR,
                0,
                &mut name as *mut *const c_char as *mut c_void,
            ) == 0
                && !name.is_null()
            {
                CStr::from_ptr(name).to_string_lossy().into_owned()
            } else {
                "unknown".to_string()
            };
            let mut primitive = std::ptr::null_mut();
            let status = (api.primitive_create)(&mut primitive, desc);
            (api.primitive_desc_destroy)(desc);
            check(status, "dnnl_primitive_create (bf16 matmul)")?;
            Ok((primitive, implementation))
        })();
        (api.post_ops_destroy)(post_ops);
        (api.primitive_attr_destroy)(attr);
        let (primitive, implementation) = made?;
        Ok((
            Primitive {
                primitive,
                src,
                weights,
                dst,
            },
            implementation,
        ))
    }

    /// The primitive for this shape, made on first use.
    fn primitive(&self, shape: Shape) -> Arc<Primitive> {
        if let Some(p) = self.primitives.lock().expect("not poisoned").get(&shape) {
            return p.clone();
        }
        // Safety: the shape describes valid row-major matrices.
        let (primitive, _) = unsafe { self.create(shape) }
            .unwrap_or_else(|e| panic!("oneDNN refused a bf16 product it accepted before: {e}"));
        let primitive = Arc::new(primitive);
        let mut primitives = self.primitives.lock().expect("not poisoned");
        if primitives.len() >= MAX_PRIMITIVES {
            // Bounded memory for runs with many batch shapes; products in
            // flight keep their own reference.
            primitives.clear();
        }
        primitives.entry(shape).or_insert(primitive).clone()
    }

    /// This thread's stream, made on first use.
    unsafe fn stream(&self) -> Handle {
        STREAM.with(|stream| {
            if stream.get().is_null() {
                let mut made = std::ptr::null_mut();
                check(
                    (self.api.stream_create)(&mut made, self.engine, STREAM_DEFAULT_FLAGS),
                    "dnnl_stream_create",
                )
                .unwrap_or_else(|e| panic!("{e}"));
                stream.set(made);
            }
            stream.get()
        })
    }

    /// `c += a · b` on this thread.
    ///
    /// # Safety
    /// As [`super::ProductLibrary::bf16gemm`].
    pub unsafe fn run(&self, p: Bf16Product) {
        let api = &self.api;
        let primitive = self.primitive([p.m, p.n, p.k, p.lda, p.ldb, p.ldc]);
        let operands = [
            (ARG_SRC, &*primitive.src, p.a as Handle),
            (ARG_WEIGHTS, &*primitive.weights, p.b as Handle),
            (ARG_DST, &*primitive.dst, p.c as Handle),
        ];
        let mut args = Vec::with_capacity(3);
        for (arg, desc, data) in operands {
            let mut memory = std::ptr::null_mut();
            check(
                (api.memory_create)(&mut memory, desc, self.engine, data),
                "dnnl_memory_create",
            )
            .unwrap_or_else(|e| panic!("{e}"));
            args.push(ExecArg { arg, memory });
        }
        let stream = self.stream();
        let status = (api.primitive_execute)(primitive.primitive, stream, 3, args.as_ptr());
        (api.stream_wait)(stream);
        for arg in &args {
            (api.memory_destroy)(arg.memory);
        }
        assert_eq!(status, 0, "oneDNN's bf16 matmul failed");
    }
}
