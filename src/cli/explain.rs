//! What `simulate` prints after a call or a text: the contact, its conversation reference,
//! who the router offered it to and why each other volunteer was passed over, read back
//! from the contact's log.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use crate::domain::contact::EventKind;
use crate::domain::rota::Channel;
use crate::storage::entities::{contact, contact_event, offer, volunteer};
use crate::storage::messages;

/// The contact a message with this Twilio sid belongs to, if it was taken in.
pub async fn contact_of_message(
    db: &DatabaseConnection,
    message_sid: &str,
) -> anyhow::Result<Option<i32>> {
    Ok(messages::contact_of(db, message_sid).await?)
}

/// The contact a call with this CallSid became.
pub async fn contact_of_call(
    db: &DatabaseConnection,
    call_sid: &str,
) -> anyhow::Result<Option<i32>> {
    Ok(contact::Entity::find()
        .filter(contact::Column::ProviderSid.eq(call_sid))
        .one(db)
        .await?
        .map(|c| c.id))
}

/// Lines that tell the contact's story so far.
pub async fn story(db: &DatabaseConnection, contact_id: i32) -> anyhow::Result<Vec<String>> {
    let Some(contact) = contact::Entity::find_by_id(contact_id).one(db).await? else {
        return Ok(vec![format!("contact #{contact_id} is not in the log")]);
    };
    let events = contact_event::Entity::find()
        .filter(contact_event::Column::ContactId.eq(contact_id))
        .filter(contact_event::Column::Kind.eq(EventKind::Routed))
        .order_by_asc(contact_event::Column::Id)
        .all(db)
        .await?;
    let offers = offer::Entity::find()
        .filter(offer::Column::ContactId.eq(contact_id))
        .order_by_asc(offer::Column::Id)
        .all(db)
        .await?;
    let people: HashMap<i32, volunteer::Model> = volunteer::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let name = |id: i32| {
        people
            .get(&id)
            .map_or_else(|| format!("volunteer {id}"), |v| v.name.clone())
    };
    let names = |ids: &Value| {
        ids.as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_i64)
                    .filter_map(|id| i32::try_from(id).ok())
                    .map(name)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };

    let mut lines = vec![format!(
        "contact #{}: {}, now {}{}",
        contact.id,
        contact.channel.as_str(),
        contact.stage.as_str(),
        contact
            .outcome
            .map(|o| format!(", outcome {}", o.as_str()))
            .unwrap_or_default()
    )];
    for event in &events {
        let Some(trace) = event
            .detail
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
        else {
            continue;
        };
        let round = trace["round"].as_i64().unwrap_or(0);
        let eligible: Vec<String> = trace["eligible"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|group| {
                format!(
                    "{} ({})",
                    names(&group["volunteer_ids"]),
                    group["tier"].as_str().unwrap_or("?")
                )
            })
            .collect();
        lines.push(format!(
            "round {round}: could take it: {}",
            if eligible.is_empty() {
                "nobody".to_owned()
            } else {
                eligible.join("; ")
            }
        ));
        if let Some(passed) = trace["passed_over"].as_object() {
            let mut reasons: Vec<String> = passed
                .iter()
                .map(|(why, ids)| format!("{} ({})", names(ids), why.replace('_', " ")))
                .collect();
            reasons.sort();
            if !reasons.is_empty() {
                lines.push(format!("  passed over: {}", reasons.join("; ")));
            }
        }
    }
    if contact.channel == Channel::Sms {
        lines.push(format!(
            "conversation reference #{id}: a volunteer starts a reply with #{id} when they \
             have several conversations open, and ends it with \"#{id} END\"",
            id = contact.id
        ));
        let open_offer = offers
            .iter()
            .rev()
            .find(|o| o.ended_at.is_none() || contact.answered_by == Some(o.volunteer_id));
        if let Some(offer) = open_offer
            && let Some(volunteer) = people.get(&offer.volunteer_id)
        {
            let how = if contact.answered_by == Some(volunteer.id) {
                "taken by"
            } else {
                "offered to"
            };
            lines.push(format!(
                "{how} {} ({}); reply as them:\n  peerline simulate sms --to {} --from {} --body \"#{} Hi, I'm here.\"",
                volunteer.name, volunteer.phone, contact.dialed_number, volunteer.phone, contact.id
            ));
        }
    }
    Ok(lines)
}
