//! `uuid`: `uuid4()`, `UUID(hex)`, and UUID objects (`str`, `.hex`, `.int`,
//! `.version`, equality, hashing). Randomness comes from the OS generator
//! (WASI `random` inside the sandbox).

use std::any::Any;
use std::rc::Rc;

use rand::RngCore;

use super::{arg_str, def, def_static, type_object, value_error};
use crate::interp::Interpreter;
use crate::value::num::int_value;
use crate::value::{Class, JacResult, Module, NativeObject, Value};

/// A `uuid.UUID`.
struct Uuid {
    value: u128,
    class: Rc<Class>,
}

impl Uuid {
    fn hex(&self) -> String {
        format!("{:032x}", self.value)
    }

    fn hyphenated(&self) -> String {
        let h = self.hex();
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

impl NativeObject for Uuid {
    fn type_name(&self) -> &str {
        "UUID"
    }

    fn repr(&self) -> String {
        format!("UUID('{}')", self.hyphenated())
    }

    fn str(&self) -> String {
        self.hyphenated()
    }

    fn get_attr(&self, _this: &Value, name: &str) -> Option<Value> {
        match name {
            "hex" => Some(Value::from(self.hex())),
            "int" => Some(int_value(self.value.into())),
            "version" => Some(Value::Int(((self.value >> 76) & 0xf) as i64)),
            "urn" => Some(Value::from(format!("urn:uuid:{}", self.hyphenated()))),
            _ => None,
        }
    }

    fn eq(&self, other: &Value) -> bool {
        match other {
            Value::Object(o) => o
                .as_any()
                .downcast_ref::<Uuid>()
                .is_some_and(|u| u.value == self.value),
            _ => false,
        }
    }

    fn hash(&self) -> Option<u64> {
        Some((self.value as u64) ^ ((self.value >> 64) as u64))
    }

    fn compare(&self, other: &Value) -> Option<std::cmp::Ordering> {
        match other {
            Value::Object(o) => o
                .as_any()
                .downcast_ref::<Uuid>()
                .map(|u| self.value.cmp(&u.value)),
            _ => None,
        }
    }

    fn class(&self) -> Option<Rc<Class>> {
        Some(self.class.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A random (version 4, RFC 4122 variant) UUID.
fn random_v4() -> u128 {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let raw = u128::from_be_bytes(bytes);
    (raw & !(0xf << 76) & !(0b11 << 62)) | (0x4 << 76) | (0b10 << 62)
}

/// Builds the `uuid` module.
pub(super) fn module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("uuid"));
    let class = type_object("UUID");
    let c = class.clone();
    def(&module, "uuid4", move |_, _| {
        Ok(Value::Object(Rc::new(Uuid {
            value: random_v4(),
            class: c.clone(),
        })))
    });
    let c = class.clone();
    def_static(&class, "__new__", move |_, args| {
        let text = arg_str(&args, 0, "hex", "UUID")?;
        let digits: String = text
            .trim_start_matches("urn:uuid:")
            .trim_matches(|ch| ch == '{' || ch == '}')
            .chars()
            .filter(|&ch| ch != '-')
            .collect();
        if digits.len() != 32 {
            return Err(value_error("badly formed hexadecimal UUID string"));
        }
        let value = u128::from_str_radix(&digits, 16)
            .map_err(|_| value_error("badly formed hexadecimal UUID string"))?;
        Ok(Value::Object(Rc::new(Uuid {
            value,
            class: c.clone(),
        })))
    });
    module.set("UUID", Value::Class(class));
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_layout() {
        let u = Uuid {
            value: random_v4(),
            class: type_object("UUID"),
        };
        let s = u.hyphenated();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(random_v4(), random_v4());
    }
}
