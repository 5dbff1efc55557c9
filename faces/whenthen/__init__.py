"""WhenThen's face: its GraphQL Intent API at `/whenthen/graphql` (strawberry-graphql), a
translation over the tracked checkouts (`checkouts`)."""
