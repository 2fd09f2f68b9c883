"""The account page where people make, read and revoke their API tokens (/account/tokens/)."""
