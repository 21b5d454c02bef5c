//! Token kinds produced by the lexer.

use std::rc::Rc;

use num_bigint::BigInt;

use super::span::Span;

/// A token with its position.
#[derive(Debug, Clone)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

/// The token kinds.
#[derive(Debug, Clone)]
pub enum TokenKind {
    /// An identifier. `kw` is set when it spells a keyword and was not
    /// backtick-escaped (`` `root `` is `Ident { name: "root", kw: None }`).
    Ident {
        /// The text.
        name: Rc<str>,
        /// The keyword it spells, if any.
        kw: Option<Kw>,
    },
    /// An int literal that fits in `i64`.
    Int(i64),
    /// A larger int literal.
    BigInt(Rc<BigInt>),
    /// A float literal.
    Float(f64),
    /// A (non-f) string literal, escapes processed.
    Str(Rc<str>),
    /// A bytes literal.
    Bytes(Rc<[u8]>),
    /// An f-string literal split into pieces (expressions still unparsed).
    FStr(Vec<FPiece>),
    /// Punctuation / operator.
    Punct(P),
    /// End of input.
    Eof,
}

/// One raw piece of an f-string: literal text or a replacement field whose
/// expression is the source range `start..end` (absolute byte offsets).
#[derive(Debug, Clone)]
pub enum FPiece {
    /// Literal text (escapes and `{{`/`}}` processed).
    Lit(String),
    /// `{expr[=][!c][:spec]}`.
    Field {
        /// Byte offset of the expression text.
        start: usize,
        /// Byte offset one past the expression text (before `=`, `!`, `:`).
        end: usize,
        /// `{x=}` debug form; holds the text to echo (expression plus `=` and spaces).
        debug: Option<String>,
        /// `!r`/`!s`/`!a`.
        conversion: Option<char>,
        /// Format spec pieces.
        spec: Option<Vec<FPiece>>,
    },
}

macro_rules! keywords {
    ($($variant:ident = $text:literal),* $(,)?) => {
        /// Reserved words.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Kw { $(#[doc = $text] $variant),* }

        impl Kw {
            /// The keyword spelled by `s`, if any.
            pub fn lookup(s: &str) -> Option<Kw> {
                match s { $($text => Some(Kw::$variant),)* _ => None }
            }

            /// The keyword's text.
            pub fn as_str(self) -> &'static str {
                match self { $(Kw::$variant => $text),* }
            }
        }
    };
}

keywords! {
    Obj = "obj", Class = "class", Enum = "enum", Node = "node", Edge = "edge", Walker = "walker",
    Has = "has", Can = "can", Def = "def", Static = "static", Override = "override", Impl = "impl",
    Sem = "sem", Test = "test", Glob = "glob", Global = "global", Nonlocal = "nonlocal",
    Import = "import", Include = "include", From = "from", As = "as", If = "if", Elif = "elif",
    Else = "else", For = "for", To = "to", By = "by", While = "while", Match = "match",
    Switch = "switch", Case = "case", Default = "default", Try = "try", Except = "except",
    Finally = "finally", With = "with", Return = "return", Yield = "yield", Break = "break",
    Continue = "continue", Raise = "raise", Del = "del", Assert = "assert", Skip = "skip",
    Report = "report", Visit = "visit", Spawn = "spawn", Entry = "entry", Exit = "exit",
    Disengage = "disengage", Here = "here", Visitor = "visitor", Root = "root", Async = "async",
    Await = "await", Flow = "flow", Wait = "wait", And = "and", Or = "or", Not = "not", In = "in",
    Is = "is", Lambda = "lambda", Pub = "pub", Priv = "priv", Protect = "protect", Cl = "cl",
    Sv = "sv", Na = "na", Self_ = "self", Super = "super", Init = "init", PostInit = "postinit",
    Abs = "abs", True_ = "True", False_ = "False", None_ = "None",
}

impl Kw {
    /// Keywords that may also be used as plain names in expressions and
    /// declarations (they never start an expression, so there is no ambiguity
    /// there): `node`, `entry`, `test`, `default`, ...
    pub fn is_soft(self) -> bool {
        matches!(
            self,
            Kw::Obj
                | Kw::Class
                | Kw::Enum
                | Kw::Node
                | Kw::Edge
                | Kw::Walker
                | Kw::Sem
                | Kw::Test
                | Kw::To
                | Kw::By
                | Kw::Entry
                | Kw::Exit
                | Kw::Default
                | Kw::Include
                | Kw::Flow
                | Kw::Wait
                | Kw::Pub
                | Kw::Priv
                | Kw::Protect
                | Kw::Cl
                | Kw::Sv
                | Kw::Na
                | Kw::Abs
                | Kw::Static
                | Kw::Override
                | Kw::Switch
                | Kw::Match
                | Kw::Case
                | Kw::Skip
                | Kw::Glob
                | Kw::Impl
        )
    }
}

macro_rules! puncts {
    ($($variant:ident = $text:literal),* $(,)?) => {
        /// Punctuation and operators. The lexer matches the longest spelling.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum P { $(#[doc = $text] $variant),* }

        impl P {
            /// The spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(P::$variant => $text),* }
            }

            /// Every punctuator, longest spellings first (lexer match order).
            pub const BY_LENGTH: &'static [P] = &[$(P::$variant),*];
        }
    };
}

puncts! {
    // 4 characters
    ConnUndir = "<++>", EdgeAny = "<-->",
    // 3 characters
    ConnFwd = "++>", ConnBwd = "<++", EdgeOut = "-->", EdgeIn = "<--",
    EdgeOutOpen = "->:", EdgeOutClose = ":->", EdgeInOpen = "<-:", EdgeInClose = ":<-",
    ConnFwdOpen = "+>:", ConnFwdClose = ":+>", ConnBwdOpen = "<+:", ConnBwdClose = ":<+",
    PowEq = "**=", FloorDivEq = "//=", ShlEq = "<<=", ShrEq = ">>=", Ellipsis = "...",
    // 2 characters
    EqEq = "==", NotEq = "!=", LtEq = "<=", GtEq = ">=", Pow = "**", FloorDiv = "//",
    Shl = "<<", Shr = ">>", PlusEq = "+=", MinusEq = "-=", StarEq = "*=", SlashEq = "/=",
    PercentEq = "%=", AmpEq = "&=", PipeEq = "|=", CaretEq = "^=", AtEq = "@=", Arrow = "->",
    Walrus = ":=", AndAnd = "&&", OrOr = "||", PipeFwd = "|>", PipeBwd = "<|",
    // 1 character
    LParen = "(", RParen = ")", LBracket = "[", RBracket = "]", LBrace = "{", RBrace = "}",
    Comma = ",", Semi = ";", Colon = ":", Dot = ".", Plus = "+", Minus = "-", Star = "*",
    Slash = "/", Percent = "%", At = "@", Lt = "<", Gt = ">", Assign = "=", Amp = "&",
    Pipe = "|", Caret = "^", Tilde = "~", Bang = "!", Question = "?", Backtick = "`",
}
