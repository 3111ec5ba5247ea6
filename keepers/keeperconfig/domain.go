package keeperconfig

// DomainConfig is the [domain] section (issue 18). A member keeper sets
// address and front_door: it then serves and settles only the escrows'
// lanes to that domain, and only requests the front door signed. A front
// door runs `keeper run --domain <address>` (no workers, no journal).
type DomainConfig struct {
	// Address is the domain account (`mt domain show`).
	Address string `toml:"address"`
	// FrontDoor (members) is the front door keeper's public key.
	FrontDoor string `toml:"front_door"`
	// FeeAccount (members) receives the domain fee on settlement (default:
	// the domain operator's associated native-token account).
	FeeAccount string `toml:"fee_account"`
	// MemberRefresh (front door) is how often the members are listed from
	// chain and their gateways probed (default 5s).
	MemberRefresh Duration `toml:"member_refresh"`
	// LaneRefresh (front door) is how often the domain lanes and the members'
	// settled run numbers are read (default 1s).
	LaneRefresh Duration `toml:"lane_refresh"`
	// UnknownHold (front door) is how long a run whose outcome the front
	// door could not learn stays owed before its member's journal mark is
	// asked, and how long after a start the start barrier waits before
	// asking every member (default 35s: longer than a member may take to
	// make a run durable; lower it only in tests).
	UnknownHold Duration `toml:"unknown_hold"`
	// StartBarrier (front door; default true) keeps admission closed after
	// a start until every member has settled what it had recorded.
	StartBarrier *bool `toml:"start_barrier"`

	// Serve (keeper run --domain, never from the file) makes this keeper
	// the domain's front door.
	Serve bool `toml:"-"`
}
