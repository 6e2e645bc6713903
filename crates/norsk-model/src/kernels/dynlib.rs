//! Shared libraries opened at run time (`dlopen`), so that one binary runs
//! with or without a kernel library installed.

use std::ffi::{c_void, CStr, CString};
use std::path::{Path, PathBuf};

/// An open shared library; it stays loaded for the life of the process (its
/// functions are kept in `'static` tables).
pub(crate) struct SharedLibrary {
    handle: *mut c_void,
    /// Where it was found.
    pub path: PathBuf,
}

// Safety: a dlopen handle may be used from any thread.
unsafe impl Send for SharedLibrary {}
unsafe impl Sync for SharedLibrary {}

impl SharedLibrary {
    /// Opens the first of `names` found in `dirs` (in order), then by the
    /// system's own search (`LD_LIBRARY_PATH`, the loader's cache). Returns
    /// what was tried when none opens.
    pub fn open(names: &[&str], dirs: &[PathBuf]) -> Result<Self, String> {
        let mut tried = Vec::new();
        let candidates = dirs
            .iter()
            .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
            .filter(|p| p.is_file())
            .chain(names.iter().map(PathBuf::from));
        for path in candidates {
            match open_one(&path) {
                Ok(handle) => return Ok(Self { handle, path }),
                Err(e) => tried.push(e),
            }
        }
        Err(tried.join("; "))
    }

    /// The address of `name`, as a function pointer of type `F`.
    ///
    /// # Safety
    /// `F` must be the symbol's real C signature (a function pointer type).
    pub unsafe fn function<F: Copy>(&self, name: &str) -> Result<F, String> {
        assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
        let c_name = CString::new(name).map_err(|e| e.to_string())?;
        let address = libc::dlsym(self.handle, c_name.as_ptr());
        if address.is_null() {
            return Err(format!("{} has no symbol {name}", self.path.display()));
        }
        Ok(std::mem::transmute_copy(&address))
    }
}

fn open_one(path: &Path) -> Result<*mut c_void, String> {
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // Safety: dlopen with a valid C string; RTLD_LOCAL keeps the library's
    // symbols out of the global namespace.
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        // Safety: dlerror returns null or a C string valid until the next call.
        let message = unsafe {
            let e = libc::dlerror();
            if e.is_null() {
                "unknown error".to_string()
            } else {
                CStr::from_ptr(e).to_string_lossy().into_owned()
            }
        };
        return Err(message);
    }
    Ok(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_is_an_error_naming_it() {
        let err = SharedLibrary::open(
            &["libnorsk-no-such-library.so.7"],
            &[PathBuf::from("/nonexistent")],
        )
        .err()
        .unwrap();
        assert!(err.contains("libnorsk-no-such-library.so.7"), "{err}");
    }

    #[test]
    fn symbols_are_found_in_an_open_library() {
        let libc_so = SharedLibrary::open(&["libc.so.6"], &[]).unwrap();
        // Safety: strlen's C signature.
        let strlen: unsafe extern "C" fn(*const libc::c_char) -> usize =
            unsafe { libc_so.function("strlen") }.unwrap();
        assert_eq!(unsafe { strlen(c"norsk".as_ptr()) }, 5);
        assert!(
            unsafe { libc_so.function::<unsafe extern "C" fn()>("no_such_symbol_xyz") }.is_err()
        );
    }
}
