//! Products on oneDNN's matmul primitive, through oneDNN 2's C API
//! (`dnnl.h`): the library Debian ships as `libdnnl2`. oneDNN picks its own
//! kernels for the CPU (AVX512-BF16, AVX512-VNNI, AMX) whatever its maker.
//!
//! * bf16 with f32 accumulation (oneDNN's BLAS-like API has none): a
//!   primitive is made once per product shape and kept.
//! * `u8 × i8 → i32` on weights reordered once, at load, into the blocked
//!   layout of the primitive that multiplies tiles of a fixed number of rows
//!   ([`PackedInt8`]): `dnnl_gemm_u8s8s32` repacks both operands on every
//!   call, and its output for a whole layer is too large to stay in cache
//!   until it is dequantized.
//!
//! oneDNN 2's descriptors are C structs that norsk only ever hands back to
//! oneDNN, so they live in opaque buffers larger than any version's struct.

use std::alloc::Layout;
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr};
use std::sync::{Arc, Mutex, OnceLock};

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
const S32: i32 = 4;
const S8: i32 = 5;
const U8: i32 = 6;
/// `dnnl_format_tag_any`: the primitive chooses the layout.
const FORMAT_ANY: i32 = 1;
const ARG_SRC: i32 = 1;
const ARG_DST: i32 = 17;
const ARG_WEIGHTS: i32 = 33;
const ARG_SCRATCHPAD: i32 = 80;
/// `dnnl_scratchpad_mode_user`: each execution brings its own scratchpad.
const SCRATCHPAD_MODE_USER: i32 = 1;
const QUERY_IMPL_INFO_STR: i32 = 8;
const QUERY_WEIGHTS_MD: i32 = 131;
const QUERY_SCRATCHPAD_MD: i32 = 136;
/// Primitives kept at most (one per product shape; each holds JIT code).
const MAX_PRIMITIVES: usize = 512;
/// Alignment of reordered weights (a cache line, as oneDNN allocates).
const ALIGN: usize = 64;

#[repr(C)]
struct ExecArg {
    arg: i32,
    memory: Handle,
}

/// The oneDNN 2 functions the matmuls need.
#[derive(Clone, Copy)]
struct Api {
    engine_create: unsafe extern "C" fn(*mut Handle, i32, usize) -> Status,
    stream_create: unsafe extern "C" fn(*mut Handle, Handle, u32) -> Status,
    memory_desc_init_by_strides:
        unsafe extern "C" fn(*mut MemoryDesc, i32, *const i64, i32, *const i64) -> Status,
    memory_desc_init_by_tag:
        unsafe extern "C" fn(*mut MemoryDesc, i32, *const i64, i32, i32) -> Status,
    memory_desc_get_size: unsafe extern "C" fn(*const MemoryDesc) -> usize,
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
    primitive_attr_set_scratchpad_mode: unsafe extern "C" fn(Handle, i32) -> Status,
    primitive_desc_create:
        unsafe extern "C" fn(*mut Handle, *const MatmulDesc, Handle, Handle, Handle) -> Status,
    reorder_primitive_desc_create: unsafe extern "C" fn(
        *mut Handle,
        *const MemoryDesc,
        Handle,
        *const MemoryDesc,
        Handle,
        Handle,
    ) -> Status,
    primitive_desc_query: unsafe extern "C" fn(Handle, i32, i32, *mut c_void) -> Status,
    primitive_desc_query_md: unsafe extern "C" fn(Handle, i32, i32) -> *const MemoryDesc,
    primitive_desc_destroy: unsafe extern "C" fn(Handle) -> Status,
    primitive_create: unsafe extern "C" fn(*mut Handle, Handle) -> Status,
    primitive_destroy: unsafe extern "C" fn(Handle) -> Status,
    memory_create: unsafe extern "C" fn(*mut Handle, *const MemoryDesc, Handle, Handle) -> Status,
    memory_destroy: unsafe extern "C" fn(Handle) -> Status,
    primitive_execute: unsafe extern "C" fn(Handle, Handle, i32, *const ExecArg) -> Status,
    stream_wait: unsafe extern "C" fn(Handle) -> Status,
    /// Where oneDNN runs on OpenMP: each product runs on the calling thread
    /// alone (norsk spreads products over its own threads).
    omp_set_num_threads: Option<unsafe extern "C" fn(i32)>,
}

/// The operand types of a matmul.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operands {
    /// `c += a · b`: bf16 `a` (`m × k`) and `b` (`k × n`), f32 `c`.
    Bf16,
    /// `c = a · bᵀ`: `u8` `a` (`m × k`), `i8` `b` (`n × k`), `i32` `c`.
    Int8,
}

impl Operands {
    /// oneDNN's data types of source, weights and destination.
    fn types(self) -> [i32; 3] {
        match self {
            Operands::Bf16 => [BF16, BF16, F32],
            Operands::Int8 => [U8, S8, S32],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Operands::Bf16 => "bf16",
            Operands::Int8 => "int8",
        }
    }
}

/// The shape of one product: `m`, `n`, `k` and the leading dimensions.
type Shape = [usize; 6];

/// A matmul primitive for one shape, with the descriptors of its operands.
struct Primitive {
    api: Api,
    /// The primitive's descriptor, kept for its scratchpad's descriptor.
    desc: Handle,
    primitive: Handle,
    src: Box<MemoryDesc>,
    weights: Box<MemoryDesc>,
    dst: Box<MemoryDesc>,
}

impl Drop for Primitive {
    fn drop(&mut self) {
        // Safety: both were made by oneDNN and are dropped once.
        unsafe {
            (self.api.primitive_destroy)(self.primitive);
            (self.api.primitive_desc_destroy)(self.desc);
        }
    }
}

/// One of oneDNN's matmuls, ready to run.
pub(crate) struct Matmul {
    api: Api,
    engine: Handle,
    operands: Operands,
    primitives: Mutex<HashMap<Shape, Arc<Primitive>>>,
    /// oneDNN's name for the kernel it picked (e.g. `brg:avx512_core_bf16`).
    pub implementation: String,
}

// Safety: oneDNN's engines and primitives may be used from any thread (each
// thread runs them on its own stream); the descriptors are only read.
unsafe impl Send for Matmul {}
unsafe impl Sync for Matmul {}
unsafe impl Send for Primitive {}
unsafe impl Sync for Primitive {}

thread_local! {
    /// This thread's oneDNN stream on [`ENGINE`] (oneDNN's streams are not
    /// shared).
    static STREAM: Cell<Handle> = const { Cell::new(std::ptr::null_mut()) };
    /// This thread's scratchpad: with oneDNN's own (the default mode) one
    /// primitive may not run on two threads at once, and the threads here
    /// run the same product shapes side by side.
    static SCRATCHPAD: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The CPU engine all matmuls run on (a stream serves one engine).
static ENGINE: OnceLock<EngineHandle> = OnceLock::new();

struct EngineHandle(Handle);
// Safety: oneDNN's engines may be used from any thread.
unsafe impl Send for EngineHandle {}
unsafe impl Sync for EngineHandle {}

fn check(status: Status, what: &str) -> Result<(), String> {
    if status == 0 {
        Ok(())
    } else {
        Err(format!("{what} failed (oneDNN status {status})"))
    }
}

impl Api {
    /// A `rows × cols` descriptor whose rows are `row_stride` elements
    /// apart and columns `col_stride`.
    unsafe fn desc(
        &self,
        [rows, cols]: [usize; 2],
        [row_stride, col_stride]: [usize; 2],
        dtype: i32,
    ) -> Result<Box<MemoryDesc>, String> {
        let mut desc = Box::new([0u64; 512]);
        let mut dims: Dims = [0; 12];
        let mut strides: Dims = [0; 12];
        dims[..2].copy_from_slice(&[rows as i64, cols as i64]);
        strides[..2].copy_from_slice(&[row_stride as i64, col_stride as i64]);
        check(
            (self.memory_desc_init_by_strides)(
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

    /// A `rows × cols` descriptor whose layout the primitive chooses.
    unsafe fn any_desc(
        &self,
        [rows, cols]: [usize; 2],
        dtype: i32,
    ) -> Result<Box<MemoryDesc>, String> {
        let mut desc = Box::new([0u64; 512]);
        let mut dims: Dims = [0; 12];
        dims[..2].copy_from_slice(&[rows as i64, cols as i64]);
        check(
            (self.memory_desc_init_by_tag)(&mut *desc, 2, dims.as_ptr(), dtype, FORMAT_ANY),
            "dnnl_memory_desc_init_by_tag",
        )?;
        Ok(desc)
    }

    /// oneDNN's name for the kernel a primitive descriptor picked.
    unsafe fn implementation(&self, desc: Handle) -> String {
        let mut name: *const c_char = std::ptr::null();
        if (self.primitive_desc_query)(
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
        }
    }

    /// The primitive of a primitive descriptor.
    unsafe fn primitive(&self, desc: Handle) -> Result<Handle, String> {
        let mut primitive = std::ptr::null_mut();
        check(
            (self.primitive_create)(&mut primitive, desc),
            "dnnl_primitive_create",
        )?;
        Ok(primitive)
    }

    /// The process's CPU engine, made on first use.
    unsafe fn engine(&self) -> Result<Handle, String> {
        if let Some(engine) = ENGINE.get() {
            return Ok(engine.0);
        }
        let mut engine = std::ptr::null_mut();
        check(
            (self.engine_create)(&mut engine, ENGINE_CPU, 0),
            "dnnl_engine_create",
        )?;
        // A second engine made by a racing thread is leaked, never used.
        Ok(ENGINE.get_or_init(|| EngineHandle(engine)).0)
    }

    /// This thread's stream on `engine`, made on first use.
    unsafe fn stream(&self, engine: Handle) -> Handle {
        STREAM.with(|stream| {
            if stream.get().is_null() {
                let mut made = std::ptr::null_mut();
                check(
                    (self.stream_create)(&mut made, engine, STREAM_DEFAULT_FLAGS),
                    "dnnl_stream_create",
                )
                .unwrap_or_else(|e| panic!("{e}"));
                stream.set(made);
            }
            stream.get()
        })
    }

    /// Runs `primitive` (made from `desc`, which must still live) on this
    /// thread's stream over the given memories (argument, descriptor, data)
    /// and this thread's scratchpad, and waits for it.
    unsafe fn execute(
        &self,
        engine: Handle,
        (desc, primitive): (Handle, Handle),
        operands: &[(i32, &MemoryDesc, Handle)],
    ) -> Status {
        let scratchpad_desc = (self.primitive_desc_query_md)(desc, QUERY_SCRATCHPAD_MD, 0);
        let scratchpad_bytes = if scratchpad_desc.is_null() {
            0
        } else {
            (self.memory_desc_get_size)(scratchpad_desc)
        };
        SCRATCHPAD.with(|scratchpad| {
            let mut scratchpad = scratchpad.borrow_mut();
            let words = scratchpad_bytes.div_ceil(8);
            if scratchpad.len() < words {
                scratchpad.resize(words, 0);
            }
            let mut args = Vec::with_capacity(operands.len() + 1);
            let mut add = |arg: i32, desc: *const MemoryDesc, data: Handle| {
                let mut memory = std::ptr::null_mut();
                check(
                    (self.memory_create)(&mut memory, desc, engine, data),
                    "dnnl_memory_create",
                )
                .unwrap_or_else(|e| panic!("{e}"));
                args.push(ExecArg { arg, memory });
            };
            for &(arg, desc, data) in operands {
                add(arg, desc, data);
            }
            if scratchpad_bytes > 0 {
                add(
                    ARG_SCRATCHPAD,
                    scratchpad_desc,
                    scratchpad.as_mut_ptr() as Handle,
                );
            }
            if let Some(set) = self.omp_set_num_threads {
                set(1);
            }
            let stream = self.stream(engine);
            let status =
                (self.primitive_execute)(primitive, stream, args.len() as i32, args.as_ptr());
            (self.stream_wait)(stream);
            for arg in &args {
                (self.memory_destroy)(arg.memory);
            }
            status
        })
    }
}

impl Matmul {
    /// Finds the matmul functions in oneDNN 2 and makes one primitive to see
    /// which kernel oneDNN picks; refuses its reference (scalar) kernel.
    ///
    /// # Safety
    /// `lib` must be oneDNN 2 (the descriptors differ in oneDNN 3) and stay
    /// loaded for the life of the process.
    pub unsafe fn load(lib: &SharedLibrary, operands: Operands) -> Result<Self, String> {
        let api = Api {
            engine_create: lib.function("dnnl_engine_create")?,
            stream_create: lib.function("dnnl_stream_create")?,
            memory_desc_init_by_strides: lib.function("dnnl_memory_desc_init_by_strides")?,
            memory_desc_init_by_tag: lib.function("dnnl_memory_desc_init_by_tag")?,
            memory_desc_get_size: lib.function("dnnl_memory_desc_get_size")?,
            matmul_desc_init: lib.function("dnnl_matmul_desc_init")?,
            primitive_attr_create: lib.function("dnnl_primitive_attr_create")?,
            primitive_attr_destroy: lib.function("dnnl_primitive_attr_destroy")?,
            post_ops_create: lib.function("dnnl_post_ops_create")?,
            post_ops_destroy: lib.function("dnnl_post_ops_destroy")?,
            post_ops_append_sum: lib.function("dnnl_post_ops_append_sum")?,
            primitive_attr_set_post_ops: lib.function("dnnl_primitive_attr_set_post_ops")?,
            primitive_attr_set_scratchpad_mode: lib
                .function("dnnl_primitive_attr_set_scratchpad_mode")?,
            primitive_desc_create: lib.function("dnnl_primitive_desc_create")?,
            reorder_primitive_desc_create: lib.function("dnnl_reorder_primitive_desc_create")?,
            primitive_desc_query: lib.function("dnnl_primitive_desc_query")?,
            primitive_desc_query_md: lib.function("dnnl_primitive_desc_query_md")?,
            primitive_desc_destroy: lib.function("dnnl_primitive_desc_destroy")?,
            primitive_create: lib.function("dnnl_primitive_create")?,
            primitive_destroy: lib.function("dnnl_primitive_destroy")?,
            memory_create: lib.function("dnnl_memory_create")?,
            memory_destroy: lib.function("dnnl_memory_destroy")?,
            primitive_execute: lib.function("dnnl_primitive_execute")?,
            stream_wait: lib.function("dnnl_stream_wait")?,
            omp_set_num_threads: lib.function("omp_set_num_threads").ok(),
        };
        let engine = api.engine()?;
        let mut matmul = Self {
            api,
            engine,
            operands,
            primitives: Mutex::new(HashMap::new()),
            implementation: String::new(),
        };
        let (primitive, implementation) = matmul.create([64, 64, 64, 64, 64, 64])?;
        if implementation.starts_with("ref") {
            return Err(format!(
                "oneDNN's {} matmul here is its reference kernel ({implementation})",
                operands.name()
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

    /// The primitive descriptor for these operands (bf16 with a sum post-op
    /// that adds the product to what `dst` holds, the bias).
    unsafe fn primitive_desc(
        &self,
        src: &MemoryDesc,
        weights: &MemoryDesc,
        dst: &MemoryDesc,
    ) -> Result<Handle, String> {
        let api = &self.api;
        let mut op = Box::new([0u64; 2048]);
        check(
            (api.matmul_desc_init)(&mut *op, src, weights, std::ptr::null(), dst),
            "dnnl_matmul_desc_init",
        )?;
        let (mut attr, mut post_ops) = (std::ptr::null_mut(), std::ptr::null_mut());
        check(
            (api.primitive_attr_create)(&mut attr),
            "dnnl_primitive_attr_create",
        )?;
        check((api.post_ops_create)(&mut post_ops), "dnnl_post_ops_create")?;
        let made = (|| -> Result<Handle, String> {
            check(
                (api.primitive_attr_set_scratchpad_mode)(attr, SCRATCHPAD_MODE_USER),
                "dnnl_primitive_attr_set_scratchpad_mode",
            )?;
            if self.operands == Operands::Bf16 {
                check(
                    (api.post_ops_append_sum)(post_ops, 1.0),
                    "dnnl_post_ops_append_sum",
                )?;
                check(
                    (api.primitive_attr_set_post_ops)(attr, post_ops),
                    "dnnl_primitive_attr_set_post_ops",
                )?;
            }
            let mut desc = std::ptr::null_mut();
            check(
                (api.primitive_desc_create)(
                    &mut desc,
                    &*op,
                    attr,
                    self.engine,
                    std::ptr::null_mut(),
                ),
                "dnnl_primitive_desc_create (matmul)",
            )?;
            Ok(desc)
        })();
        (api.post_ops_destroy)(post_ops);
        (api.primitive_attr_destroy)(attr);
        made
    }

    /// Makes the primitive for one shape on plain row-major operands
    /// (`dst += src · weights` in bf16, `dst = src · weightsᵀ` in int8), and
    /// says which kernel oneDNN picked for it.
    unsafe fn create(
        &self,
        [m, n, k, lda, ldb, ldc]: Shape,
    ) -> Result<(Primitive, String), String> {
        let api = &self.api;
        let [src_type, weights_type, dst_type] = self.operands.types();
        let src = api.desc([m, k], [lda, 1], src_type)?;
        let weights = match self.operands {
            Operands::Bf16 => api.desc([k, n], [ldb, 1], weights_type)?,
            Operands::Int8 => api.desc([k, n], [1, ldb], weights_type)?,
        };
        let dst = api.desc([m, n], [ldc, 1], dst_type)?;
        let desc = self.primitive_desc(&src, &weights, &dst)?;
        let implementation = api.implementation(desc);
        let primitive = match api.primitive(desc) {
            Ok(primitive) => primitive,
            Err(e) => {
                (api.primitive_desc_destroy)(desc);
                return Err(e);
            }
        };
        Ok((
            Primitive {
                api: *api,
                desc,
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
            .unwrap_or_else(|e| panic!("oneDNN refused a product it accepted before: {e}"));
        let primitive = Arc::new(primitive);
        let mut primitives = self.primitives.lock().expect("not poisoned");
        if primitives.len() >= MAX_PRIMITIVES {
            // Bounded memory for runs with many batch shapes; products in
            // flight keep their own reference.
            primitives.clear();
        }
        primitives.entry(shape).or_insert(primitive).clone()
    }

    /// `c += a · b` on this thread.
    ///
    /// # Safety
    /// As [`super::ProductLibrary::bf16gemm`]; `self` holds bf16 operands.
    pub unsafe fn bf16(&self, p: Bf16Product) {
        debug_assert_eq!(self.operands, Operands::Bf16);
        let primitive = self.primitive([p.m, p.n, p.k, p.lda, p.ldb, p.ldc]);
        let status = self.api.execute(
            self.engine,
            (primitive.desc, primitive.primitive),
            &[
                (ARG_SRC, &primitive.src, p.a as Handle),
                (ARG_WEIGHTS, &primitive.weights, p.b as Handle),
                (ARG_DST, &primitive.dst, p.c as Handle),
            ],
        );
        assert_eq!(status, 0, "oneDNN's bf16 matmul failed");
    }

    /// Reorders int8 weights (`n × k` rows, one per output column) once into
    /// the layout of the primitive that multiplies `tile_rows × k` tiles.
    ///
    /// # Safety
    /// `self` holds int8 operands; `rows` holds `n × k` values.
    pub unsafe fn pack_int8(
        &self,
        rows: &[i8],
        [n, k]: [usize; 2],
        tile_rows: usize,
    ) -> Result<PackedInt8, String> {
        debug_assert_eq!(self.operands, Operands::Int8);
        assert_eq!(rows.len(), n * k, "int8 weights of the wrong size");
        let api = &self.api;
        let src = api.desc([tile_rows, k], [k, 1], U8)?;
        let dst = api.desc([tile_rows, n], [n, 1], S32)?;
        let plain = api.desc([k, n], [1, k], S8)?;
        let any = api.any_desc([k, n], S8)?;
        let desc = self.primitive_desc(&src, &any, &dst)?;
        let mut packed = PackedInt8 {
            api: *api,
            engine: self.engine,
            desc,
            primitive: std::ptr::null_mut(),
            src,
            dst,
            weights: std::ptr::null(),
            data: std::ptr::null_mut(),
            layout: Layout::new::<u8>(),
        };
        // From here `packed` frees what it holds if a step fails.
        packed.primitive = api.primitive(desc)?;
        packed.weights = (api.primitive_desc_query_md)(desc, QUERY_WEIGHTS_MD, 0);
        if packed.weights.is_null() {
            return Err("oneDNN gave no weights layout for its int8 matmul".into());
        }
        let size = (api.memory_desc_get_size)(packed.weights);
        packed.layout = Layout::from_size_align(size.max(1), ALIGN).map_err(|e| e.to_string())?;
        packed.data = std::alloc::alloc_zeroed(packed.layout);
        if packed.data.is_null() {
            std::alloc::handle_alloc_error(packed.layout);
        }
        let mut reorder_desc = std::ptr::null_mut();
        check(
            (api.reorder_primitive_desc_create)(
                &mut reorder_desc,
                &*plain,
                self.engine,
                packed.weights,
                self.engine,
                std::ptr::null_mut(),
            ),
            "dnnl_reorder_primitive_desc_create",
        )?;
        let reorder = match api.primitive(reorder_desc) {
            Ok(reorder) => reorder,
            Err(e) => {
                (api.primitive_desc_destroy)(reorder_desc);
                return Err(e);
            }
        };
        let status = api.execute(
            self.engine,
            (reorder_desc, reorder),
            &[
                (ARG_SRC, &plain, rows.as_ptr() as Handle),
                (ARG_DST, &*packed.weights, packed.data as Handle),
            ],
        );
        (api.primitive_destroy)(reorder);
        (api.primitive_desc_destroy)(reorder_desc);
        check(status, "the reorder of the int8 weights")?;
        Ok(packed)
    }
}

/// int8 weights in the blocked layout of oneDNN's matmul primitive for
/// `tile_rows × k` tiles of `u8` activations, with that primitive.
pub(crate) struct PackedInt8 {
    api: Api,
    engine: Handle,
    /// The primitive's descriptor, kept for its weights' descriptor.
    desc: Handle,
    primitive: Handle,
    src: Box<MemoryDesc>,
    dst: Box<MemoryDesc>,
    /// Points into `desc`.
    weights: *const MemoryDesc,
    data: *mut u8,
    layout: Layout,
}

// Safety: the primitive may run on any thread (on that thread's stream);
// the weights are only read after the reorder.
unsafe impl Send for PackedInt8 {}
unsafe impl Sync for PackedInt8 {}

impl PackedInt8 {
    /// `c = a · bᵀ` for one tile on this thread: `a` holds `tile_rows × k`
    /// values, `c` `tile_rows × n`, both row-major and dense.
    ///
    /// # Safety
    /// `a` and `c` must hold the tile's values.
    pub unsafe fn multiply(&self, a: *const u8, c: *mut i32) {
        let status = self.api.execute(
            self.engine,
            (self.desc, self.primitive),
            &[
                (ARG_SRC, &self.src, a as Handle),
                (ARG_WEIGHTS, &*self.weights, self.data as Handle),
                (ARG_DST, &self.dst, c as Handle),
            ],
        );
        assert_eq!(status, 0, "oneDNN's int8 matmul failed");
    }
}

impl Drop for PackedInt8 {
    fn drop(&mut self) {
        // Safety: each handle was made by oneDNN (or is null) and is dropped
        // once; the data was allocated with `layout`.
        unsafe {
            if !self.primitive.is_null() {
                (self.api.primitive_destroy)(self.primitive);
            }
            (self.api.primitive_desc_destroy)(self.desc);
            if !self.data.is_null() {
                std::alloc::dealloc(self.data, self.layout);
            }
        }
    }
}
