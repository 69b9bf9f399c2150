//! [`MessageType`]: the names of the built-in message types (Python's `MessageType`).

use crate::wire_enum::wire_enum;

/// Generates Python's SCREAMING_CASE names as associated constants with `paste`.
macro_rules! python_names {
    ($($variant:ident),* $(,)?) => {
        paste::paste! {
            impl MessageType {
                $(
                    #[doc = concat!("Python's `MessageType.", stringify!([<$variant:snake:upper>]), "`.")]
                    pub const [<$variant:snake:upper>]: MessageType = MessageType::$variant;
                )*
            }
        }
    };
}

/// Calls `$m!(EraChanged, RenderRequest, ...)` with the ten built-in message types: the
/// one list that the Python names, [`AnyMessage`](crate::AnyMessage) and the
/// schema checks are generated from.
macro_rules! with_builtin_types {
    ($m:ident) => {
        $m!(
            EraChanged,
            RenderRequest,
            IdleStatus,
            ImageReady,
            TransitionReady,
            LoopReady,
            AgentControlEvent,
            TransitionRequest,
            LoopRequest,
            Heartbeat,
        );
    };
}
pub(crate) use with_builtin_types;

/// Defines [`MessageType`] from the built-in types: each one's wire name is its own name.
macro_rules! message_type_enum {
    ($($variant:ident),* $(,)?) => {
        wire_enum! {
            /// The wire names of the Experimance message types (Python's `MessageType` enum).
            ///
            /// The Python constant names exist too, so ported code reads the same:
            /// `MessageType::ERA_CHANGED == MessageType::EraChanged`.
            ///
            /// # Example
            /// ```
            /// use experimance_common::MessageType;
            /// assert_eq!(MessageType::ERA_CHANGED.as_str(), "EraChanged");
            /// assert_eq!("Heartbeat".parse::<MessageType>().unwrap(), MessageType::Heartbeat);
            /// assert_eq!(serde_json::to_string(&MessageType::IDLE_STATUS).unwrap(), "\"IdleStatus\"");
            /// assert_eq!(MessageType::ALL.len(), 10);
            /// ```
            pub enum MessageType ("message type") = names [$($variant),*]
        }
    };
}

with_builtin_types!(message_type_enum);

with_builtin_types!(python_names);

crate::topic::eq_str!(MessageType => str, &str);
