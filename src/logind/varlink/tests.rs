//! The Varlink transport against sockets of our own: what it sends, how it reads the answers.
