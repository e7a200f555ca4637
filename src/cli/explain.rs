//! What `simulate` prints after a call or a text: the contact, its conversation reference,
//! who the router offered it to and why each other volunteer was passed over, read back
//! from the contact's log.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::domain::contact::EventKind;
use crate::domain::ids::{ContactId, VolunteerId};
use crate::domain::rota::Channel;
use crate::domain::trace_words::{counted_only, named_volunteers, volunteer_ids};
use crate::secrets::Vault;
use crate::storage::entities::volunteer;
use crate::storage::{contact_log, contacts, volunteers};

/// Lines that tell the contact's story so far.
pub async fn story(
    db: &DatabaseConnection,
    vault: &Vault,
    contact_id: ContactId,
) -> anyhow::Result<Vec<String>> {
    let Some(contact) = contacts::get(db, contact_id).await? else {
        return Ok(vec![format!("contact #{contact_id} is not in the log")]);
    };
    let traces: Vec<Value> = contact_log::events(db, contact_id)
        .await?
        .into_iter()
        .filter(|e| e.kind == EventKind::Routed)
        .filter_map(|e| serde_json::from_str(e.detail.as_deref()?).ok())
        .collect();
    let offers = contacts::offers(db, contact_id).await?;
    // Only the volunteers the story names.
    let mut named: Vec<VolunteerId> = offers.iter().map(|o| o.volunteer_id).collect();
    named.extend(traces.iter().flat_map(named_volunteers));
    let people: HashMap<VolunteerId, volunteer::Model> = volunteer::Entity::find()
        .filter(volunteer::Column::Id.is_in(named))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let name = |id: VolunteerId| {
        people
            .get(&id)
            .map_or_else(|| format!("volunteer {id}"), |v| v.name.clone())
    };
    let names = |list: &Value| volunteer_ids(list).map(name).collect::<Vec<_>>().join(", ");

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
    for trace in &traces {
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
        let mut reasons: Vec<String> = trace["passed_over"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(why, ids)| format!("{} ({})", names(ids), why.replace('_', " ")))
            .collect();
        reasons.sort();
        reasons.extend(
            counted_only(trace)
                .map(|(why, n)| format!("{n} volunteers ({})", why.replace('_', " "))),
        );
        if !reasons.is_empty() {
            lines.push(format!("  passed over: {}", reasons.join("; ")));
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
            let phone = volunteers::phone_of(vault, volunteer)?;
            lines.push(format!(
                "{how} {} ({phone}); reply as them:\n  peerline simulate sms --to {} --from {phone} --body \"#{} Hi, I'm here.\"",
                volunteer.name, contact.dialed_number, contact.id
            ));
        }
    }
    Ok(lines)
}
