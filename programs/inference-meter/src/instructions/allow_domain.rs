use anchor_lang::prelude::*;

use crate::events::DomainLaneAllowed;
use crate::state::{seeds, Domain, Escrow};

#[event_cpi]
#[derive(Accounts)]
pub struct AllowDomain<'info> {
    pub owner: Signer<'info>,

    #[account(mut, seeds = [seeds::ESCROW, escrow.key_hash.as_ref()], bump = escrow.bump, has_one = owner)]
    pub escrow: Box<Account<'info, Escrow>>,

    /// The domain the lane is for; must exist, so money is never parked in a
    /// lane nobody can serve.
    #[account(seeds = [seeds::DOMAIN, domain.operator.as_ref(), domain.name.as_bytes()], bump = domain.bump)]
    pub domain: Box<Account<'info, Domain>>,
}

impl AllowDomain<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        let domain = self.domain.key();
        self.escrow.check_fill(&domain, amount)?;
        // Topping up a lane left from an earlier domain at this address
        // would hand its money to the new one.
        match self.escrow.lane_index(&domain) {
            Some(index) => self.escrow.check_domain_lane(index, self.domain.serial),
            None => Ok(()),
        }
    }
}

impl AllowDomain<'_> {
    /// Moves `amount` of the escrow's unallocated balance into the domain's
    /// lane (opening it), under the same rules as `allow_node`. Any admitted
    /// member of the domain may then settle against it. The lane is revoked
    /// like a node's: `request_revoke` / `revoke_node` with the domain's address.
    /// The lane records the domain's serial, so it is this domain's only.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn allow_domain(ctx: Context<Self>, amount: u64) -> Result<()> {
        let domain = ctx.accounts.domain.key();
        let escrow = &mut ctx.accounts.escrow;
        let lane_balance = escrow.fill_lane(domain, ctx.accounts.domain.serial, amount)?;
        let balance = escrow.balance;
        emit_cpi!(DomainLaneAllowed { escrow: ctx.accounts.escrow.key(), domain, amount, lane_balance, balance });
        Ok(())
    }
}
