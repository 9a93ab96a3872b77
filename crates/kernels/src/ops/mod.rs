//! Launchers, one module per op family: each defines the family's params struct (the exact
//! layout of its WGSL struct), its op codes, and functions that turn params into a [`Launch`].
//! The CPU twins in [`crate::reference`] take the same params structs. The software-adapter
//! strategies' own launchers (their GEMMs, packs and convolution forms) are in [`crate::cpu`].
//!
//! [`Launch`]: crate::Launch

pub mod augment;
pub mod cells;
pub mod conv;
pub mod fault;
pub mod fill;
pub mod index;
pub mod loss_scale;
pub mod map;
pub mod matmul;
pub mod norm;
pub mod op_table;
pub mod optim;
pub mod pool;
pub mod random;
pub mod reduce;
pub mod softmax;
pub mod softmax_xent;
pub mod tiles;
