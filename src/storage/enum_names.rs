//! The stored enums keep a hand-written `as_str` beside their sea-orm string values (for
//! static metric labels, report keys and traces): this test holds the two tables together.

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use crate::domain::access::Role;
    use crate::domain::contact::Outcome;
    use crate::domain::rota::Channel;
    use crate::domain::routing::Tier;
    use crate::domain::supervision::{Flag, ReviewState};
    use crate::storage::contacts::{OfferOutcome, Stage};

    fn same_names<E: ActiveEnum<Value = String> + Iterable + Copy + std::fmt::Debug>(
        as_str: fn(E) -> &'static str,
    ) {
        for variant in E::iter() {
            assert_eq!(as_str(variant), variant.to_value(), "{variant:?}");
        }
    }

    #[test]
    fn each_enums_name_is_the_one_it_is_stored_under() {
        same_names(Outcome::as_str);
        same_names(Stage::as_str);
        same_names(OfferOutcome::as_str);
        same_names(Channel::as_str);
        same_names(Tier::as_str);
        same_names(ReviewState::as_str);
        same_names(Flag::as_str);
        same_names(Role::as_str);
    }
}
