//! What the CPU can run, read once at start: the instruction-set level the
//! product kernels may use, and the vendor (oneMKL is fast on Intel only).

use std::fmt;
use std::str::FromStr;

/// Instruction-set levels of x86-64 that change which products run, from
/// least to most capable; each level includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// No SIMD assumed: the portable kernels.
    Portable,
    /// AVX2 and FMA.
    Avx2,
    /// AVX-512 F, BW, DQ and VL.
    Avx512,
    /// AVX-512 with VNNI (`vpdpbusd`: int8 dot products).
    Avx512Vnni,
    /// AVX-512 with BF16 (`vdpbf16ps`).
    Avx512Bf16,
    /// AMX tiles with BF16 and INT8, enabled by the kernel for this process.
    Amx,
}

impl Isa {
    /// Every level, lowest first.
    pub const ALL: [Isa; 6] = [
        Isa::Portable,
        Isa::Avx2,
        Isa::Avx512,
        Isa::Avx512Vnni,
        Isa::Avx512Bf16,
        Isa::Amx,
    ];

    /// Whether products in bf16 run in hardware at this level.
    pub fn has_bf16(self) -> bool {
        self >= Isa::Avx512Bf16
    }

    fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Avx512Vnni => "avx512-vnni",
            Isa::Avx512Bf16 => "avx512-bf16",
            Isa::Amx => "amx",
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Isa {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Isa::ALL
            .into_iter()
            .find(|isa| isa.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<_> = Isa::ALL.iter().map(|i| i.name()).collect();
                format!(
                    "unknown instruction set {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// The CPU's maker, as CPUID names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// `GenuineIntel`.
    Intel,
    /// `AuthenticAMD`.
    Amd,
    /// Anything else, or not x86.
    Other,
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Vendor::Intel => "Intel",
            Vendor::Amd => "AMD",
            Vendor::Other => "other",
        })
    }
}

/// What this CPU has, and the feature flags behind the level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuFeatures {
    /// The highest level every feature of which is present.
    pub isa: Isa,
    /// The maker.
    pub vendor: Vendor,
    /// The flags that were found, in CPUID's names.
    pub flags: Vec<&'static str>,
}

impl CpuFeatures {
    /// Reads the CPU (and, for AMX, asks Linux for the tile state).
    pub fn detect() -> Self {
        detect()
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unused_unsafe)] // CPUID intrinsics are safe to call from Rust 1.87 on
fn detect() -> CpuFeatures {
    use std::arch::x86_64::__cpuid;

    let mut flags = Vec::new();
    let mut has = |present: bool, name: &'static str| {
        if present {
            flags.push(name);
        }
        present
    };
    let avx2 =
        has(is_x86_feature_detected!("avx2"), "avx2") & has(is_x86_feature_detected!("fma"), "fma");
    let avx512 = has(is_x86_feature_detected!("avx512f"), "avx512f")
        & has(is_x86_feature_detected!("avx512bw"), "avx512bw")
        & has(is_x86_feature_detected!("avx512dq"), "avx512dq")
        & has(is_x86_feature_detected!("avx512vl"), "avx512vl");
    let vnni = has(is_x86_feature_detected!("avx512vnni"), "avx512_vnni");
    let bf16 = has(is_x86_feature_detected!("avx512bf16"), "avx512_bf16");
    let amx = has(amx_usable(), "amx_tile+amx_bf16+amx_int8");
    let isa = [
        (avx2, Isa::Avx2),
        (avx2 && avx512, Isa::Avx512),
        (avx2 && avx512 && vnni, Isa::Avx512Vnni),
        (avx2 && avx512 && vnni && bf16, Isa::Avx512Bf16),
        (avx2 && avx512 && vnni && bf16 && amx, Isa::Amx),
    ]
    .into_iter()
    .filter(|(ok, _)| *ok)
    .map(|(_, isa)| isa)
    .next_back()
    .unwrap_or(Isa::Portable);
    // Safety: CPUID leaf 0 exists on every x86-64 CPU.
    let leaf0 = unsafe { __cpuid(0) };
    let mut name = [0u8; 12];
    for (i, reg) in [leaf0.ebx, leaf0.edx, leaf0.ecx].into_iter().enumerate() {
        name[i * 4..i * 4 + 4].copy_from_slice(&reg.to_le_bytes());
    }
    let vendor = match &name {
        b"GenuineIntel" => Vendor::Intel,
        b"AuthenticAMD" => Vendor::Amd,
        _ => Vendor::Other,
    };
    CpuFeatures { isa, vendor, flags }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> CpuFeatures {
    CpuFeatures {
        isa: Isa::Portable,
        vendor: Vendor::Other,
        flags: Vec::new(),
    }
}

/// AMX tiles with BF16 and INT8 in CPUID, their state enabled by the OS
/// (XCR0 bits 17 and 18), and this process allowed to use them (Linux asks
/// for `arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)` first).
#[cfg(target_arch = "x86_64")]
#[allow(unused_unsafe)] // CPUID intrinsics are safe to call from Rust 1.87 on
fn amx_usable() -> bool {
    use std::arch::x86_64::{__cpuid, __cpuid_count};

    // Safety: CPUID is always there; leaf 7 is read only if leaf 0 says so.
    let max_leaf = unsafe { __cpuid(0) }.eax;
    if max_leaf < 7 {
        return false;
    }
    let leaf7 = unsafe { __cpuid_count(7, 0) };
    let (bf16, tile, int8) = (1 << 22, 1 << 24, 1 << 25);
    if leaf7.edx & (bf16 | tile | int8) != (bf16 | tile | int8) {
        return false;
    }
    // OSXSAVE (leaf 1, ECX bit 27) says XGETBV may be executed.
    if unsafe { __cpuid(1) }.ecx & (1 << 27) == 0 {
        return false;
    }
    // Safety: OSXSAVE is set, so XGETBV with ECX = 0 is defined.
    let xcr0 = unsafe { xgetbv0() };
    if xcr0 & (0b11 << 17) != (0b11 << 17) {
        return false;
    }
    request_tile_permission()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "xsave")]
unsafe fn xgetbv0() -> u64 {
    std::arch::x86_64::_xgetbv(0)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn request_tile_permission() -> bool {
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // Safety: arch_prctl with these arguments only changes this process's
    // permission to use the AMX tile state.
    unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        ) == 0
    }
}

#[cfg(all(target_arch = "x86_64", not(target_os = "linux")))]
fn request_tile_permission() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order_by_capability() {
        for isa in Isa::ALL {
            assert_eq!(isa.to_string().parse::<Isa>(), Ok(isa));
        }
        assert_eq!("AVX512_VNNI".parse::<Isa>(), Ok(Isa::Avx512Vnni));
        assert!("sse9".parse::<Isa>().unwrap_err().contains("avx2"));
        assert!(Isa::Portable < Isa::Avx2 && Isa::Avx512Bf16 < Isa::Amx);
        assert!(Isa::Amx.has_bf16() && !Isa::Avx512Vnni.has_bf16());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_detected_level_agrees_with_the_standard_library() {
        let cpu = CpuFeatures::detect();
        assert_eq!(
            cpu.isa >= Isa::Avx2,
            is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
        );
        assert_eq!(
            cpu.isa >= Isa::Avx512,
            is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
                && is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx512vl")
        );
    }
}
