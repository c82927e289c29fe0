package reference

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Message is one message accepted by a MemoryStore.
type Message struct {
	// ID is the queue id given in the 250 reply and the Received field.
	ID string
	// From is the reverse-path mailbox, "" for the null path <>.
	From string
	// To lists the accepted recipients in RCPT order, as sent (quotes and
	// case preserved, source routes dropped).
	To []string
	// Data is exactly the content the client sent: the un-stuffed DATA
	// octets, or the BDAT chunks concatenated. Trace fields are kept apart
	// (ReturnPath, Received) so that transparency can be checked byte for
	// byte; Raw joins them as a mailbox would store them.
	Data []byte
	// ReturnPath and Received are the trace fields final delivery prepends.
	ReturnPath, Received string

	// Body, SMTPUTF8, Size, Ret, EnvID and Auth record the MAIL parameters.
	Body     string
	SMTPUTF8 bool
	Size     int64
	Ret      string
	EnvID    string
	Auth     string
	// Rcpts records each recipient with its DSN parameters.
	Rcpts []Recipient
	// Chunked is set when the message came by BDAT.
	Chunked bool

	// Helo, RemoteAddr, TLS and AuthIdentity describe the session.
	Helo         string
	RemoteAddr   string
	TLS          bool
	AuthIdentity string
	// ReceivedAt is when the message was accepted.
	ReceivedAt time.Time
}

// Recipient is one accepted RCPT with its parameters.
type Recipient struct {
	Addr      string
	Notify    []string
	ORCPTType string
	ORCPT     string
}

// Raw returns the message as delivered: Return-Path, Received, then Data.
func (m Message) Raw() []byte {
	b := make([]byte, 0, len(m.ReturnPath)+len(m.Received)+len(m.Data))
	b = append(b, m.ReturnPath...)
	b = append(b, m.Received...)
	return append(b, m.Data...)
}

// MemoryStore is a Backend that keeps accepted messages in memory, for
// in-process inspection. It is safe for concurrent use.
type MemoryStore struct {
	mu   sync.Mutex
	msgs []Message
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Messages returns a copy of the list of accepted messages, oldest first.
func (m *MemoryStore) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.msgs...)
}

// Reset forgets all messages.
func (m *MemoryStore) Reset() {
	m.mu.Lock()
	m.msgs = nil
	m.mu.Unlock()
}

// NewSession implements Backend.
func (m *MemoryStore) NewSession(ci ConnInfo) (Session, error) {
	return &envelope{ci: ci, deliver: m.deliver}, nil
}

func (m *MemoryStore) deliver(msg *Message, r io.Reader) error {
	buf := scratchPool.Get().(*bytes.Buffer)
	defer scratchPool.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return err
	}
	msg.Data = bytes.Clone(buf.Bytes())
	if msg.Data == nil {
		msg.Data = []byte{}
	}
	m.mu.Lock()
	m.msgs = append(m.msgs, *msg)
	m.mu.Unlock()
	return nil
}

// scratchPool holds buffers that collect message data before the exact-size
// copy is stored, so a busy store does not regrow a buffer per message.
var scratchPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// queueSeq numbers accepted messages for their queue ids.
var queueSeq atomic.Uint64

// newQueueID returns a short unique id for a message.
func newQueueID() string {
	return strconv.FormatInt(time.Now().UnixNano()/1e6, 36) + "." + strconv.FormatUint(queueSeq.Add(1), 36)
}

// envelope is the Session shared by the built-in backends: it records the
// transaction and hands the content to deliver.
type envelope struct {
	ci      ConnInfo
	msg     Message
	deliver func(msg *Message, r io.Reader) error
}

func (e *envelope) Mail(from Path, opts *MailOptions) error {
	e.msg = Message{
		From: from.Mailbox(), Body: opts.Body, SMTPUTF8: opts.SMTPUTF8, Size: opts.Size,
		Ret: opts.Ret, EnvID: opts.EnvID, Auth: opts.Auth,
		ReturnPath: ReturnPath(from),
		Helo:       e.ci.Helo, TLS: e.ci.TLS != nil, AuthIdentity: e.ci.AuthIdentity,
	}
	if e.ci.RemoteAddr != nil {
		e.msg.RemoteAddr = e.ci.RemoteAddr.String()
	}
	return nil
}

func (e *envelope) Rcpt(to Path, opts *RcptOptions) error {
	addr := to.Mailbox()
	e.msg.To = append(e.msg.To, addr)
	e.msg.Rcpts = append(e.msg.Rcpts, Recipient{Addr: addr, Notify: opts.Notify, ORCPTType: opts.ORCPTType, ORCPT: opts.ORCPT})
	return nil
}

func (e *envelope) Data(r io.Reader) error {
	msg := e.msg
	msg.ID = newQueueID()
	msg.ReceivedAt = time.Now()
	msg.Received = e.ci.Received(msg.ID, msg.To, msg.SMTPUTF8, msg.ReceivedAt)
	_, msg.Chunked = r.(chunkReader)
	return e.deliver(&msg, r)
}

func (e *envelope) Reset() { e.msg = Message{} }

func (e *envelope) Logout() error { return nil }
