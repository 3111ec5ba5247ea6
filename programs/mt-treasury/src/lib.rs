use anchor_lang::prelude::*;

declare_id!("6ehw9YdXPyTwGMH8Ubyq9D2NeZCKoAy5WQMXsWKp1zfB");

#[program]
pub mod mt_treasury {
    use super::*;
    pub fn noop(_ctx: Context<Noop>) -> Result<()> { Ok(()) }
}

#[derive(Accounts)]
pub struct Noop {}
