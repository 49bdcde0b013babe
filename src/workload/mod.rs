//! Traffic: CPQ keyspaces, arrival processes, popularity, value sizes, events; trace readers.

pub mod popularity;
pub mod trace;
