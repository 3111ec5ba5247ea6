package story

import (
	"time"

	"github.com/modelcommons/modelcommons/demo/driver"
)

// The shapes of mt's --output json this story reads (a subset of each).

type amount = driver.Tokens

type protocolView struct {
	Address         string `json:"address"`
	NativeMint      string `json:"native_mint"`
	FeeVault        string `json:"fee_vault"`
	FeeVaultBalance amount `json:"fee_vault_balance"`
	SetupFee        amount `json:"setup_fee"`
	ProtocolFeeBps  uint16 `json:"protocol_fee_bps"`
}

type meterView struct {
	SettlementFeeBps uint16 `json:"settlement_fee_bps"`
	OperatorShareBps uint16 `json:"operator_share_bps"`
	MinNodeStake     amount `json:"min_node_stake"`
}

type modelView struct {
	ID      uint64 `json:"id"`
	Address string `json:"address"`
	Stage   string `json:"stage"`
	Status  string `json:"status"`
	MTMint  string `json:"mt_mint"`
	Token   struct {
		Name   string `json:"name"`
		Symbol string `json:"symbol"`
	} `json:"token"`
	Crowdfund struct {
		Raised       amount `json:"raised"`
		HardCap      amount `json:"hard_cap"`
		Sold         amount `json:"sold"`
		Contributors uint32 `json:"contributors"`
		ProtocolFee  amount `json:"protocol_fee"`
		End          time.Time
	} `json:"crowdfund"`
	Pricing struct {
		InputPer1k          amount `json:"input_per_1k"`
		OutputPer1k         amount `json:"output_per_1k"`
		PreviousInputPer1k  amount `json:"previous_input_per_1k"`
		PreviousOutputPer1k amount `json:"previous_output_per_1k"`
		EffectiveAt         int64  `json:"effective_at"`
	} `json:"pricing"`
	Revenue struct {
		DepositorShareBps uint16 `json:"depositor_share_bps"`
		WarmupSecs        int64  `json:"warmup_secs"`
		TotalRevenue      amount `json:"total_revenue"`
	} `json:"revenue"`
	Market struct {
		Open          bool   `json:"open"`
		ReserveMT     amount `json:"reserve_mt"`
		ReserveNative amount `json:"reserve_native"`
		Price         string `json:"price"`
		Swaps         uint64 `json:"swaps"`
	} `json:"market"`
	Signatures []string `json:"signatures"`
}

type position struct {
	Paid     amount  `json:"paid"`
	MT       amount  `json:"mt"`
	Bought   *amount `json:"bought"`
	Cost     *amount `json:"cost"`
	Received *amount `json:"received"`
	Claimed  bool    `json:"claimed"`
	// Set by claim --close-record.
	RecordClosed bool   `json:"record_closed"`
	RentReturned uint64 `json:"rent_returned_lamports"`
}

type voterView struct {
	Deposited amount     `json:"deposited"`
	Warming   amount     `json:"warming"`
	WarmAt    *time.Time `json:"warm_at"`
}

type proposalView struct {
	Index        uint64     `json:"index"`
	Action       string     `json:"action"`
	State        string     `json:"state"`
	Yes          amount     `json:"yes"`
	No           amount     `json:"no"`
	Votes        uint32     `json:"votes"`
	Circulating  amount     `json:"circulating"`
	QuorumMet    bool       `json:"quorum_met"`
	ThresholdMet bool       `json:"threshold_met"`
	VotingEnds   time.Time  `json:"voting_ends"`
	ExecuteAfter *time.Time `json:"execute_after"`
	Next         string     `json:"next"`
}

type daoView struct {
	Proposals []proposalView `json:"proposals"`
}

type rewardsView struct {
	Claimable amount `json:"claimable"`
	Deposited amount `json:"deposited"`
}

type escrowView struct {
	Address string `json:"address"`
	Owner   string `json:"owner"`
	// Balance is unallocated plus the lanes.
	Balance     amount     `json:"balance"`
	Unallocated amount     `json:"unallocated"`
	Lanes       []laneView `json:"lanes"`
	Spent       amount     `json:"spent"`
	Unpaid      amount     `json:"unpaid"`
	APIKey      string     `json:"api_key"`
}

// laneView is what one node may still charge an escrow.
type laneView struct {
	Node    string `json:"node"`
	Balance amount `json:"balance"`
	Spent   amount `json:"spent"`
}

// lane is the escrow's lane to node (its address), or nil.
func (e escrowView) lane(node string) *laneView {
	for i := range e.Lanes {
		if e.Lanes[i].Node == node {
			return &e.Lanes[i]
		}
	}
	return nil
}

type nodeView struct {
	Address      string `json:"address"`
	Operator     string `json:"operator"`
	Keeper       string `json:"keeper"`
	Status       string `json:"status"`
	Stake        amount `json:"stake"`
	Endpoint     string `json:"endpoint"`
	LastBatchSeq uint64 `json:"last_batch_seq"`
	Runs         uint64 `json:"runs"`
	SettledValue amount `json:"settled_value"`
	Batches      uint64 `json:"batches"`
}

type quoteView struct {
	Side        string  `json:"side"`
	Pay         amount  `json:"pay"`
	Receive     amount  `json:"receive"`
	Fee         amount  `json:"fee"`
	ProtocolFee amount  `json:"protocol_fee"`
	ModelFee    amount  `json:"model_fee"`
	Received    *amount `json:"received"`
	Signature   string  `json:"signature"`
}
