//! A policy document (bucket, key or trust policy) read so that it can be written back as it was: its top-level fields
//! in their order, each as its raw JSON text, and `Statement` as raw statements.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A policy's top-level fields, in order, as raw JSON.
#[derive(Debug)]
pub struct Document {
    fields: Vec<(String, Box<RawValue>)>,
}

const STATEMENT: &str = "Statement";

impl Default for Document {
    fn default() -> Self {
        Self::new()
    }
}

impl Document {
    /// An empty policy (`Version` 2012-10-17, no statements).
    pub fn new() -> Self {
        let version = RawValue::from_string("\"2012-10-17\"".to_owned());
        Self {
            fields: version
                .map(|v| vec![("Version".to_owned(), v)])
                .unwrap_or_default(),
        }
    }

    /// Reads a policy: a JSON object.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut de = serde_json::Deserializer::from_str(text);
        let fields = de
            .deserialize_map(Fields)
            .map_err(|e| format!("the policy is not a JSON object: {e}"))?;
        de.end()
            .map_err(|e| format!("the policy is not one JSON object: {e}"))?;
        Ok(Self { fields })
    }

    /// The statements, raw: `Statement` as a list, a single statement as a list of one,
    /// none when it is absent.
    pub fn statements(&self) -> Result<Vec<Box<RawValue>>, String> {
        let Some((_, raw)) = self.fields.iter().find(|(k, _)| k == STATEMENT) else {
            return Ok(Vec::new());
        };
        let text = raw.get().trim_start();
        if text.starts_with('[') {
            let items: Vec<Box<RawValue>> = serde_json::from_str(raw.get())
                .map_err(|e| format!("`Statement` is not a list: {e}"))?;
            if let Some(bad) = items
                .iter()
                .find(|s| !s.get().trim_start().starts_with('{'))
            {
                return Err(format!("a statement is not a JSON object: {}", bad.get()));
            }
            Ok(items)
        } else if text.starts_with('{') {
            Ok(vec![raw.clone()])
        } else {
            Err(format!(
                "`Statement` is neither a statement nor a list of them: {}",
                raw.get()
            ))
        }
    }

    /// Replaces `Statement` (in its place, or last when there was none) with `statements`.
    pub fn set_statements(&mut self, statements: &[Box<RawValue>]) {
        let list = format!(
            "[{}]",
            statements
                .iter()
                .map(|s| s.get())
                .collect::<Vec<_>>()
                .join(",")
        );
        let Ok(raw) = RawValue::from_string(list) else {
            return;
        };
        match self.fields.iter_mut().find(|(k, _)| k == STATEMENT) {
            Some((_, value)) => *value = raw,
            None => self.fields.push((STATEMENT.to_owned(), raw)),
        }
    }

    /// The policy as JSON text.
    pub fn render(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), v.get()))
            .collect();
        format!("{{{}}}", fields.join(","))
    }
}

/// Reads a JSON object's fields in order.
struct Fields;

impl<'de> Visitor<'de> for Fields {
    type Value = Vec<(String, Box<RawValue>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Box<RawValue>>()? {
            fields.push((key, value));
        }
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_order_and_text() {
        let text = r#"{ "Version" : "2012-10-17", "Id":"x",  "Statement": [ {"B":1, "A":2} ] }"#;
        let mut d = Document::parse(text).unwrap();
        let statements = d.statements().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0].get(), r#"{"B":1, "A":2}"#);
        d.set_statements(&statements);
        assert_eq!(
            d.render(),
            r#"{"Version":"2012-10-17","Id":"x","Statement":[{"B":1, "A":2}]}"#
        );
        assert!(Document::parse("{} {}").is_err());
        assert!(
            Document::parse(r#"{"Statement":[1]}"#)
                .unwrap()
                .statements()
                .is_err()
        );
    }
}
