//! Boxes drawn over any screen: the help, and the yes/no questions.

pub mod confirm;
pub mod help;
