//! What a robocall says: the campaign's message (a ready template or its own text) with the
//! contact's fields filled in, in the contact's language, spoken by espeak-ng through the SIP
//! network's `tts:` prompts.

use api::CampaignSettings;
use dialer::{ready_template, Template};
use store::ContactRow;

/// The `tts:<language>:<text>` prompt for `contact`, or `None` if the campaign has no message
/// or a field it needs is missing.
pub fn prompt(settings: &CampaignSettings, contact: &ContactRow) -> Option<String> {
    let language = contact.language.as_deref().filter(|l| !l.is_empty());
    let text = match (&settings.message, &settings.template) {
        (Some(text), _) => text.clone(),
        (None, Some(id)) => ready_template(id)?.text(language).to_string(),
        (None, None) => return None,
    };
    let template = Template::parse(&text).ok()?;
    let fields = contact.fields.as_object();
    let name = contact.name.clone().unwrap_or_default();
    let spoken = template
        .render(|key| match key {
            "name" if !name.is_empty() => Some(name.as_str()),
            _ => fields.and_then(|f| f.get(key)?.as_str()),
        })
        .ok()?;
    // espeak-ng voice names: the language's first two letters are enough ("ru", "en").
    let voice: String = language.unwrap_or("en").chars().take(2).collect();
    let voice = if voice.chars().all(|c| c.is_ascii_alphabetic()) && voice.len() == 2 {
        voice.to_ascii_lowercase()
    } else {
        "en".into()
    };
    Some(format!("tts:{voice}:{spoken}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contact(language: Option<&str>, fields: serde_json::Value) -> ContactRow {
        ContactRow {
            id: 1,
            campaign_id: 1,
            row_number: 2,
            phone: "+4915112345678".into(),
            name: Some("Maria".into()),
            time_zone: "Europe/Berlin".into(),
            language: language.map(str::to_string),
            fields,
            status: "pending".into(),
            attempts: 0,
            next_at: 0,
            last_result: None,
            label: None,
            answer: None,
        }
    }

    fn settings(value: serde_json::Value) -> CampaignSettings {
        let mut base = json!({ "mode": "robocall", "queue_id": 1 });
        if let (Some(b), Some(v)) = (base.as_object_mut(), value.as_object()) {
            b.extend(v.clone());
        }
        serde_json::from_value(base).expect("valid campaign settings")
    }

    #[test]
    fn custom_message_is_filled_from_the_contact() {
        let s = settings(json!({ "message": "Hello {name}, order {order} is ready." }));
        let c = contact(None, json!({ "order": "A-42" }));
        assert_eq!(prompt(&s, &c).as_deref(), Some("tts:en:Hello Maria, order A-42 is ready."));
        let missing = contact(None, json!({}));
        assert_eq!(prompt(&s, &missing), None, "a missing field is not spoken as a gap");
    }

    #[test]
    fn ready_templates_speak_the_contacts_language() {
        let spec = dialer::ready_templates().first().expect("ready templates exist");
        let fields: serde_json::Map<String, serde_json::Value> =
            spec.required_fields.iter().map(|f| (f.to_string(), json!("7"))).collect();
        let s = settings(json!({ "template": spec.id }));
        let ru = prompt(&s, &contact(Some("ru-RU"), serde_json::Value::Object(fields.clone())));
        assert!(ru.as_deref().is_some_and(|p| p.starts_with("tts:ru:")), "{ru:?}");
        let en = prompt(&s, &contact(Some("%%"), serde_json::Value::Object(fields)));
        assert!(en.as_deref().is_some_and(|p| p.starts_with("tts:en:")), "{en:?}");
    }
}
