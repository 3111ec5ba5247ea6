use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::KeeperKeySet;
use crate::state::{seeds, Node};

#[event_cpi]
#[derive(Accounts)]
pub struct SetKeeperKey<'info> {
    pub operator: Signer<'info>,

    #[account(mut, seeds = [seeds::NODE, operator.key().as_ref()], bump = node.bump, has_one = operator)]
    pub node: Box<Account<'info, Node>>,
}

impl SetKeeperKey<'_> {
    fn validate(&self, new_keeper: Pubkey) -> Result<()> {
        require!(new_keeper != Pubkey::default(), MeterError::InvalidKeeperKey);
        Ok(())
    }
}

impl SetKeeperKey<'_> {
    /// Replaces the keeper hot key; the old key can no longer settle.
    #[access_control(ctx.accounts.validate(new_keeper))]
    pub fn set_keeper_key(ctx: Context<Self>, new_keeper: Pubkey) -> Result<()> {
        let node = &mut ctx.accounts.node;
        let old_keeper = node.keeper;
        node.keeper = new_keeper;
        emit_cpi!(KeeperKeySet { node: ctx.accounts.node.key(), old_keeper, new_keeper });
        Ok(())
    }
}
