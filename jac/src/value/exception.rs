//! Exceptions: Python's builtin hierarchy, user subclasses and tracebacks.
//!
//! A raised exception is an [`Instance`] of a class deriving from
//! `BaseException`, carried in an [`Exception`] together with the traceback
//! collected while it propagates through Jac frames.

use std::fmt;
use std::rc::Rc;

use super::class::BuiltinType;
use super::{Instance, Str, Value, repr};

/// Result of any operation that can raise.
pub type JacResult<T> = Result<T, Exception>;

macro_rules! exc_types {
    ($($name:ident => $parent:expr),* $(,)?) => {
        /// Builtin exception classes (Python's hierarchy, the commonly used part).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ExcType {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                $name,
            )*
        }

        impl ExcType {
            /// Every builtin exception type.
            pub const ALL: &'static [ExcType] = &[$(ExcType::$name),*];

            /// The Python name.
            pub fn name(self) -> &'static str {
                match self { $(ExcType::$name => stringify!($name)),* }
            }

            /// The direct base class (`None` for `BaseException`).
            pub fn parent(self) -> Option<ExcType> {
                match self { $(ExcType::$name => $parent),* }
            }
        }
    };
}

exc_types! {
    BaseException => None,
    SystemExit => Some(ExcType::BaseException),
    KeyboardInterrupt => Some(ExcType::BaseException),
    Exception => Some(ExcType::BaseException),
    ArithmeticError => Some(ExcType::Exception),
    ZeroDivisionError => Some(ExcType::ArithmeticError),
    OverflowError => Some(ExcType::ArithmeticError),
    LookupError => Some(ExcType::Exception),
    KeyError => Some(ExcType::LookupError),
    IndexError => Some(ExcType::LookupError),
    ValueError => Some(ExcType::Exception),
    UnicodeError => Some(ExcType::ValueError),
    TypeError => Some(ExcType::Exception),
    AttributeError => Some(ExcType::Exception),
    NameError => Some(ExcType::Exception),
    UnboundLocalError => Some(ExcType::NameError),
    RuntimeError => Some(ExcType::Exception),
    NotImplementedError => Some(ExcType::RuntimeError),
    RecursionError => Some(ExcType::RuntimeError),
    AssertionError => Some(ExcType::Exception),
    StopIteration => Some(ExcType::Exception),
    ImportError => Some(ExcType::Exception),
    ModuleNotFoundError => Some(ExcType::ImportError),
    OSError => Some(ExcType::Exception),
    FileNotFoundError => Some(ExcType::OSError),
    PermissionError => Some(ExcType::OSError),
    TimeoutError => Some(ExcType::OSError),
    ConnectionError => Some(ExcType::OSError),
    MemoryError => Some(ExcType::Exception),
}

impl ExcType {
    /// The class object of this exception type.
    pub fn class(self) -> Rc<super::Class> {
        BuiltinType::Exception(self).class()
    }
}

/// One frame of a traceback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEntry {
    /// Source file name.
    pub file: Str,
    /// 1-based line.
    pub line: u32,
    /// Function, ability or `<module>`.
    pub function: Str,
}

struct ExcData {
    value: Rc<Instance>,
    trace: Vec<TraceEntry>,
    /// Line of the innermost statement not yet recorded as a frame.
    pending_line: Option<u32>,
}

/// A raised exception: the exception instance plus its traceback.
pub struct Exception(Box<ExcData>);

impl Exception {
    /// A new builtin exception with a message (`ValueError("msg")`).
    pub fn new(ty: ExcType, message: impl Into<String>) -> Self {
        let message: String = message.into();
        Self::from_instance(Rc::new(Instance::new(
            ty.class(),
            vec![("args".into(), Value::tuple(vec![Value::from(message)]))],
        )))
    }

    /// A builtin exception whose single argument is a value (`KeyError(key)`).
    pub fn with_arg(ty: ExcType, arg: Value) -> Self {
        Self::from_instance(Rc::new(Instance::new(
            ty.class(),
            vec![("args".into(), Value::tuple(vec![arg]))],
        )))
    }

    /// Wraps an exception instance for raising.
    pub fn from_instance(value: Rc<Instance>) -> Self {
        Self(Box::new(ExcData {
            value,
            trace: Vec::new(),
            pending_line: None,
        }))
    }

    /// The exception instance.
    pub fn instance(&self) -> &Rc<Instance> {
        &self.0.value
    }

    /// The exception as a value (for `except E as e`).
    pub fn value(&self) -> Value {
        Value::Instance(self.0.value.clone())
    }

    /// The class name (`ValueError`, or the user subclass name).
    pub fn type_name(&self) -> Str {
        self.0.value.class.name.clone()
    }

    /// The nearest builtin exception type.
    pub fn exc_type(&self) -> ExcType {
        self.0
            .value
            .class
            .exception_type()
            .unwrap_or(ExcType::Exception)
    }

    /// Whether this is an instance of `ty` (or a subclass).
    pub fn is(&self, ty: ExcType) -> bool {
        self.0.value.class.is_subclass(&ty.class())
    }

    /// `str(e)`.
    pub fn message(&self) -> String {
        message_of(&self.0.value)
    }

    /// Frames, outermost first.
    pub fn trace(&self) -> &[TraceEntry] {
        &self.0.trace
    }

    /// Records a frame the exception passed through (innermost first while unwinding).
    pub fn push_frame(&mut self, entry: TraceEntry) {
        self.0.trace.insert(0, entry);
    }

    /// Notes the line of the statement the exception is passing through
    /// (only the innermost one per frame is kept).
    pub fn note_line(&mut self, line: u32) {
        if self.0.pending_line.is_none() {
            self.0.pending_line = Some(line);
        }
    }

    /// Takes the noted line when the exception leaves a frame.
    pub fn take_line(&mut self) -> Option<u32> {
        self.0.pending_line.take()
    }

    /// Python-style traceback text.
    pub fn traceback(&self) -> String {
        let mut out = String::from("Traceback (most recent call last):\n");
        for f in &self.0.trace {
            out.push_str(&format!(
                "  File \"{}\", line {}, in {}\n",
                f.file, f.line, f.function
            ));
        }
        out.push_str(&self.to_string());
        out
    }
}

/// `str()` of an exception instance: its single argument, or the args tuple.
pub fn message_of(inst: &Instance) -> String {
    let Some(Value::Tuple(args)) = inst.get("args") else {
        return String::new();
    };
    match &args[..] {
        [] => String::new(),
        [one] if inst.class.exception_type() == Some(ExcType::KeyError) => repr::repr(one),
        [one] => repr::str(one),
        _ => repr::repr(&Value::Tuple(args.clone())),
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = self.message();
        if msg.is_empty() {
            write!(f, "{}", self.type_name())
        } else {
            write!(f, "{}: {}", self.type_name(), msg)
        }
    }
}

impl fmt::Debug for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.traceback())
    }
}
