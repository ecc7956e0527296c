output "partner_event_source" {
  description = "The event source to associate with an event bus in AWS; that bus's name is the stacks' EventBusName."
  value       = "aws.partner/genesys.com/cloud/${data.genesyscloud_organizations_me.current.id}/${var.event_source_suffix}"
}

output "client_id" {
  description = "MEDIA_BRIDGE_GENESYS__CLIENT_ID"
  value       = genesyscloud_oauth_client.media_bridge.id
}

output "client_secret" {
  description = "The secret for MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE (only with expose_client_secret = true)."
  value       = genesyscloud_oauth_client.media_bridge.client_secret
  sensitive   = true
}
