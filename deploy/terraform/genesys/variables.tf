variable "aws_account_id" {
  type        = string
  description = "The 12-digit AWS account the partner event source is created in."
}

variable "aws_region" {
  type        = string
  description = "AWS region of the partner event source (and of the CloudFormation stack), e.g. eu-west-1."
}

variable "event_source_suffix" {
  type        = string
  description = "Last part of the event source name aws.partner/genesys.com/cloud/{orgId}/{suffix} (letters, digits, . - _; at most 64)."
}

variable "topic_filters" {
  type        = list(string)
  description = "Notification topics sent to EventBridge, e.g. v2.routing.queues.{queueId}.conversations.messages for each queue (docs/deployment.md)."
}

variable "integration_name" {
  type    = string
  default = "genesys-media-bridge events"
}

variable "role_name" {
  type    = string
  default = "genesys-media-bridge"
}

variable "client_name" {
  type    = string
  default = "genesys-media-bridge"
}

variable "division_ids" {
  type        = list(string)
  default     = []
  description = "Divisions the role is granted on (those holding your queues and conversations); empty: the home division; [\"*\"]: all."
}

variable "consent_external_contact" {
  type        = bool
  default     = false
  description = "Also grant externalContacts:contact:view (needed only with consent.mode=external_contact)."
}

variable "notifications_all_queues" {
  type        = bool
  default     = false
  description = "Also grant routing:queue:view (needed only by run --source notifications without notifications.queue_ids)."
}

variable "expose_client_secret" {
  type        = bool
  default     = false
  description = "Keep the OAuth client's secret in the Terraform state (sensitive output client_secret)."
}
