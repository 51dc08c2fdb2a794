//! Small building blocks shared by the screens.

pub mod footer;
pub mod secret;
pub mod strength;
pub mod text;

pub use footer::Footer;
pub use secret::SecretInput;
pub use text::TextInput;
