package etcdstore

// PreferredEndpoint is the endpoint of the member requests go to first,
// and a watch starting now would follow.
func PreferredEndpoint(s *Store) string { return s.members[s.preferred()].ep }
