package api

// IOChaosAction is the file-system fault of an IOChaos.
type IOChaosAction string

// The IOChaos actions.
const (
	// IOLatency delays file-system calls.
	IOLatency IOChaosAction = "latency"
	// IOFault makes file-system calls fail with Errno.
	IOFault IOChaosAction = "fault"
	// IOAttrOverride overrides file attributes.
	IOAttrOverride IOChaosAction = "attrOverride"
	// IOMistake corrupts read or written data.
	IOMistake IOChaosAction = "mistake"
)

// IOChaosSpec is the spec of an IOChaos. Records are per container.
type IOChaosSpec struct {
	ContainerSelector `json:",inline"`
	CommonSpec        `json:",inline"`

	// Action is the fault.
	Action IOChaosAction `json:"action"`
	// VolumePath is the mount point of the volume in the container.
	VolumePath string `json:"volumePath"`
	// Path is a glob of the affected files; empty affects all.
	Path string `json:"path,omitempty"`
	// Methods are the affected file-system calls; empty affects all.
	Methods []string `json:"methods,omitempty"`
	// Percent is the probability of a fault, 0–100 (default 100).
	Percent int `json:"percent,omitempty"`
	// Delay is the added latency for action latency, e.g. "100ms".
	Delay string `json:"delay,omitempty"`
	// Errno is the error number returned for action fault.
	Errno int32 `json:"errno,omitempty"`
	// Attr are the attributes returned for action attrOverride.
	Attr *IOAttr `json:"attr,omitempty"`
	// Mistake is the corruption for action mistake.
	Mistake *IOMistakeSpec `json:"mistake,omitempty"`
}

// IOAttr overrides file attributes.
type IOAttr struct {
	// Ino is the inode number.
	Ino *int64 `json:"ino,omitempty"`
	// Size is the file size.
	Size *int64 `json:"size,omitempty"`
	// Blocks is the block count.
	Blocks *int64 `json:"blocks,omitempty"`
	// Atime is the access time.
	Atime *Timespec `json:"atime,omitempty"`
	// Mtime is the modification time.
	Mtime *Timespec `json:"mtime,omitempty"`
	// Ctime is the change time.
	Ctime *Timespec `json:"ctime,omitempty"`
	// Kind is the file type: namedPipe, charDevice, blockDevice,
	// directory, regularFile, symlink or socket.
	Kind *string `json:"kind,omitempty"`
	// Perm is the permission bits (e.g. 420 for 0644).
	Perm *int `json:"perm,omitempty"`
	// Nlink is the link count.
	Nlink *int32 `json:"nlink,omitempty"`
	// UID is the owner.
	UID *int32 `json:"uid,omitempty"`
	// GID is the group.
	GID *int32 `json:"gid,omitempty"`
	// Rdev is the device number.
	Rdev *int32 `json:"rdev,omitempty"`
}

// Timespec is a time in seconds and nanoseconds.
type Timespec struct {
	// Sec is the seconds since the epoch.
	Sec int64 `json:"sec"`
	// Nsec is the nanoseconds.
	Nsec int64 `json:"nsec"`
}

// IOMistakeSpec corrupts data.
type IOMistakeSpec struct {
	// Filling is zero or random.
	Filling string `json:"filling,omitempty"`
	// MaxOccurrences is the most corruptions per call (≥ 1).
	MaxOccurrences int64 `json:"maxOccurrences,omitempty"`
	// MaxLength is the longest corruption in bytes (≥ 1).
	MaxLength int64 `json:"maxLength,omitempty"`
}

// Kind returns "IOChaos".
func (*IOChaosSpec) Kind() string { return "IOChaos" }

// Targets returns per-container targets.
func (s *IOChaosSpec) Targets() []Target { return containerTarget(&s.ContainerSelector) }

// OneShot returns false.
func (*IOChaosSpec) OneShot() bool { return false }

func (s *IOChaosSpec) validate(v *validator) {
	v.podSelector("spec", &s.PodSelector)
	v.enum("spec.action", string(s.Action), string(IOLatency), string(IOFault), string(IOAttrOverride), string(IOMistake))
	v.required("spec.volumePath", s.VolumePath, "set the mount point of the volume in the container, e.g. /var/lib/data")
	v.between("spec.percent", int64(s.Percent), 0, 100, "use a percentage, e.g. percent: 50")
	switch s.Action {
	case IOLatency:
		v.positiveDuration("spec.delay", s.Delay, "as the added latency")
	case IOFault:
		if s.Errno <= 0 {
			v.add("spec.errno", "missing", "set the error number to return, e.g. errno: 5 (EIO)")
		}
	case IOAttrOverride:
		if s.Attr == nil {
			v.add("spec.attr", "missing", "set the attributes to return")
		}
	case IOMistake:
		if s.Mistake == nil {
			v.add("spec.mistake", "missing", "set mistake.filling, maxOccurrences and maxLength")
		}
	}
}
