//! CSV tables from row types: a table's header is its row type's serde field names, read from
//! the type itself (so an empty table still has its header), never a restated list. The row
//! types (in `tables` and `sweep::tables`) derive `Serialize` for their rows and `Deserialize`
//! only so that their field names can be asked for. Pure: bytes in memory.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::Serialize;

/// The column names of row type `T`: its serde field names, in order.
///
/// # Panics
/// When `T` is not a struct (a bug in a row type, not an input error).
pub fn columns<T: Deserialize<'static>>() -> &'static [&'static str] {
    let mut names = None;
    let _ = T::deserialize(FieldNames(&mut names));
    names.expect("a CSV row type is a struct with named fields")
}

/// A whole table: the header from `T`, then one line per row.
pub fn to_csv<T: Serialize + Deserialize<'static>>(rows: &[T]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(columns::<T>()).expect("in-memory writer");
    for r in rows {
        w.serialize(r).expect("rows serialize to memory");
    }
    w.into_inner().expect("in-memory writer")
}

/// A deserializer that records the field names a struct asks for, and deserializes nothing.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("only the field names are read"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("a CSV row type is a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize)]
    struct Row<'a> {
        plan: &'a str,
        #[serde(rename = "hit_ratio")]
        ratio: Option<f64>,
        steady_state: &'static str,
        n: u64,
    }

    #[test]
    fn columns_are_the_serialized_field_names_in_order() {
        assert_eq!(columns::<Row>(), ["plan", "hit_ratio", "steady_state", "n"]);
        // The same names csv's own header (from a serialized row) would have.
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(Row {
            plan: "p",
            ratio: None,
            steady_state: "yes",
            n: 1,
        })
        .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(text.lines().next().unwrap(), columns::<Row>().join(","));
    }

    #[test]
    fn an_empty_table_still_has_its_header() {
        assert_eq!(
            String::from_utf8(to_csv::<Row>(&[])).unwrap(),
            "plan,hit_ratio,steady_state,n\n"
        );
    }
}
