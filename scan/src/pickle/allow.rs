//! Which globals a pickle may import: an allowlist (what benign checkpoints
//! need, the set torch's `weights_only` unpickler accepts plus NumPy's
//! reconstruction), and a denylist used only to name the worst offenders.

use std::collections::BTreeSet;

/// Globals a pickle may import, as `module.qualname`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    names: BTreeSet<String>,
}

/// Tensor element types torch pickles as `torch.<name>` globals.
const TORCH_DTYPES: &[&str] = &[
    "float32",
    "float",
    "float64",
    "double",
    "float16",
    "half",
    "bfloat16",
    "complex32",
    "chalf",
    "complex64",
    "cfloat",
    "complex128",
    "cdouble",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "short",
    "int32",
    "int",
    "int64",
    "long",
    "bool",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "quint2x4",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "float4_e2m1fn_x2",
    "bits8",
    "bits16",
    "bits1x8",
    "bits2x4",
    "bits4x2",
];

/// Storage and tensor class stems (`torch.FloatStorage`, `torch.FloatTensor`).
const TORCH_STEMS: &[&str] = &[
    "Float",
    "Double",
    "Half",
    "BFloat16",
    "Byte",
    "Char",
    "Short",
    "Int",
    "Long",
    "Bool",
    "ComplexFloat",
    "ComplexDouble",
    "QInt8",
    "QUInt8",
    "QInt32",
    "QUInt4x2",
    "QUInt2x4",
];

/// The tensor rebuild functions of `torch._utils`.
const TORCH_REBUILD: &[&str] = &[
    "_rebuild_tensor",
    "_rebuild_tensor_v2",
    "_rebuild_tensor_v3",
    "_rebuild_parameter",
    "_rebuild_parameter_with_state",
    "_rebuild_qtensor",
    "_rebuild_sparse_tensor",
    "_rebuild_meta_tensor_no_storage",
    "_rebuild_nested_tensor",
    "_rebuild_wrapper_subclass",
    "_rebuild_device_tensor_from_cpu_tensor",
    "_rebuild_device_tensor_from_numpy",
];

/// Other globals benign checkpoints use.
const OTHER: &[&str] = &[
    "collections.OrderedDict",
    "collections.Counter",
    "builtins.set",
    "builtins.frozenset",
    "builtins.bytearray",
    "builtins.complex",
    "builtins.slice",
    "_codecs.encode",
    "torch.Size",
    "torch.Tensor",
    "torch.device",
    "torch.UntypedStorage",
    "torch.storage.UntypedStorage",
    "torch.storage.TypedStorage",
    "torch.nn.parameter.Parameter",
    "torch.nn.parameter.Buffer",
    "torch.serialization._get_layout",
    "torch._tensor._rebuild_from_type_v2",
    "torch.strided",
    "torch.sparse_coo",
    "torch.sparse_csr",
    "torch.sparse_csc",
    "torch.sparse_bsr",
    "torch.sparse_bsc",
    "torch._mkldnn",
    "torch.jagged",
    "torch.per_tensor_affine",
    "torch.per_channel_affine",
    "torch.per_tensor_symmetric",
    "torch.per_channel_symmetric",
    "torch.per_channel_affine_float_qparams",
    "torch.contiguous_format",
    "torch.channels_last",
    "torch.channels_last_3d",
    "torch.preserve_format",
    // NumPy arrays and scalars (numpy 1.x `core`, 2.x `_core`).
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray._reconstruct",
    "numpy._core.multiarray.scalar",
];

/// NumPy 2's per-type dtype classes (`numpy.dtypes.Float32DType`).
const NUMPY_DTYPES: &[&str] = &[
    "Bool",
    "Int8",
    "UInt8",
    "Int16",
    "UInt16",
    "Int32",
    "UInt32",
    "Int64",
    "UInt64",
    "Float16",
    "Float32",
    "Float64",
    "LongDouble",
    "Complex64",
    "Complex128",
    "CLongDouble",
    "Bytes",
    "Str",
    "Void",
    "DateTime64",
    "TimeDelta64",
    "Long",
    "ULong",
    "LongLong",
    "ULongLong",
    "Byte",
    "UByte",
    "Short",
    "UShort",
    "Int",
    "UInt",
];

impl Default for Allowlist {
    /// The globals benign PyTorch and NumPy checkpoints need.
    fn default() -> Self {
        let mut names = BTreeSet::new();
        for d in TORCH_DTYPES {
            names.insert(format!("torch.{d}"));
        }
        for s in TORCH_STEMS {
            for kind in ["Storage", "Tensor"] {
                names.insert(format!("torch.{s}{kind}"));
                names.insert(format!("torch.cuda.{s}{kind}"));
            }
        }
        for f in TORCH_REBUILD {
            names.insert(format!("torch._utils.{f}"));
        }
        for d in NUMPY_DTYPES {
            names.insert(format!("numpy.dtypes.{d}DType"));
        }
        names.extend(OTHER.iter().map(|s| (*s).to_owned()));
        Self { names }
    }
}

impl Allowlist {
    /// An empty allowlist: every global is a finding.
    pub fn empty() -> Self {
        Self {
            names: BTreeSet::new(),
        }
    }

    /// Also allow `global` (`module.qualname`, e.g. `argparse.Namespace`).
    pub fn allow(&mut self, global: &str) {
        self.names.insert(global.to_owned());
    }

    /// Whether `module.name` may be imported.
    pub fn contains(&self, module: &str, name: &str) -> bool {
        // Dunder components reach interpreter internals (`__globals__`,
        // `__subclasses__`): never allowed, whatever the list says.
        let dunder = |s: &str| s.split('.').any(|c| c.starts_with("__"));
        if module.is_empty() || name.is_empty() || dunder(module) || dunder(name) {
            return false;
        }
        self.names.contains(&format!("{module}.{name}"))
    }

    /// The allowed globals, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// Python 2 module names that Python 3's unpickler maps (`fix_imports`).
pub(crate) fn python3_module(module: &str) -> &str {
    match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "commands" => "subprocess",
        "UserDict" | "UserList" | "UserString" => "collections",
        "urllib2" => "urllib.request",
        "httplib" => "http.client",
        "Tkinter" => "tkinter",
        other => other,
    }
}

/// Why `module.name` is a known code-execution primitive, if it is one.
pub(crate) fn denied(module: &str, name: &str) -> Option<&'static str> {
    let top = module.split('.').next().unwrap_or(module);
    let why = match top {
        "os" | "posix" | "nt" | "pty" | "subprocess" | "commands" | "popen2" => {
            "runs operating-system commands"
        }
        "runpy" | "code" | "codeop" | "timeit" | "pdb" | "bdb" | "trace" | "profile"
        | "cProfile" => "runs Python code",
        "importlib" | "imp" | "pkgutil" | "zipimport" => "imports arbitrary modules",
        "pickle" | "_pickle" | "cPickle" | "dill" | "cloudpickle" | "joblib" | "marshal"
        | "shelve" => "unpickles or unmarshals nested data",
        "webbrowser" | "socket" | "ssl" | "urllib" | "http" | "httplib" | "ftplib" | "smtplib"
        | "telnetlib" | "requests" | "asyncio" => "opens network connections",
        "shutil" | "tempfile" | "io" | "_io" | "pathlib" | "glob" => "reads or writes files",
        "ctypes" | "_ctypes" | "cffi" | "sys" | "gc" | "types" | "inspect" | "signal"
        | "multiprocessing" | "threading" | "_thread" => "reaches interpreter internals",
        "builtins" | "__builtin__" => match name {
            "eval" | "exec" | "execfile" | "compile" => "runs Python code",
            "__import__" => "imports arbitrary modules",
            "getattr" | "setattr" | "delattr" | "globals" | "locals" | "vars" | "dir" | "type"
            | "object" | "super" | "classmethod" | "staticmethod" => {
                "reaches arbitrary attributes (getattr-style indirection)"
            }
            "open" | "input" | "breakpoint" | "help" | "exit" | "quit" | "apply" => {
                "has side effects on load"
            }
            _ => return None,
        },
        "operator" | "_operator" => match name {
            "attrgetter" | "methodcaller" | "itemgetter" => {
                "reaches arbitrary attributes (getattr-style indirection)"
            }
            _ => return None,
        },
        "functools" if name == "partial" || name == "reduce" => "calls arbitrary callables",
        "torch" if module.starts_with("torch.hub") || name == "load" => {
            "downloads or loads further models"
        }
        "numpy" if name == "load" || name.ends_with("runstring") => "loads pickles or runs code",
        _ => return None,
    };
    Some(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_list_has_what_checkpoints_need_and_nothing_dangerous() {
        let a = Allowlist::default();
        assert!(a.contains("torch._utils", "_rebuild_tensor_v2"));
        assert!(a.contains("torch", "FloatStorage"));
        assert!(a.contains("torch", "bfloat16"));
        assert!(a.contains("collections", "OrderedDict"));
        assert!(a.contains("numpy.core.multiarray", "_reconstruct"));
        assert!(!a.contains("os", "system"));
        assert!(!a.contains("builtins", "getattr"));
        assert!(!a.contains("collections", "OrderedDict.__init__"));
        for name in a.iter() {
            let (m, n) = name.rsplit_once('.').unwrap();
            assert!(denied(m, n).is_none(), "{name} is allowed and denied");
        }
    }

    #[test]
    fn users_extend_the_list() {
        let mut a = Allowlist::default();
        assert!(!a.contains("argparse", "Namespace"));
        a.allow("argparse.Namespace");
        assert!(a.contains("argparse", "Namespace"));
        assert!(!Allowlist::empty().contains("torch", "Size"));
    }

    #[test]
    fn the_denylist_names_the_usual_primitives() {
        for (m, n) in [
            ("os", "system"),
            ("posix", "system"),
            ("subprocess", "Popen"),
            ("builtins", "eval"),
            ("builtins", "exec"),
            ("builtins", "__import__"),
            ("builtins", "getattr"),
            ("runpy", "run_path"),
            ("webbrowser", "open"),
        ] {
            assert!(denied(m, n).is_some(), "{m}.{n}");
        }
        assert_eq!(python3_module("__builtin__"), "builtins");
    }
}
