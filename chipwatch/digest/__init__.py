"""The daily digest: what is new in the story since a reader's last digest, sent once a day."""
