# The Genesys Cloud side of genesys-media-bridge, as CX as Code.
# DOCUMENTATION ONLY: not executed in CI (there is no Genesys org there); see README.md.

terraform {
  required_providers {
    genesyscloud = {
      source = "mypurecloud/genesyscloud"
      # UNSURE: the oldest version with every attribute used here was not checked.
      version = ">= 1.40.0"
    }
  }
}

# Credentials of an admin OAuth client from the environment:
# GENESYSCLOUD_OAUTHCLIENT_ID, GENESYSCLOUD_OAUTHCLIENT_SECRET, GENESYSCLOUD_REGION.
provider "genesyscloud" {}

data "genesyscloud_organizations_me" "current" {}

data "genesyscloud_auth_division_home" "home" {}

# The Amazon EventBridge Source integration: Genesys creates the partner event source
# aws.partner/genesys.com/cloud/{orgId}/{event_source_suffix} in the AWS account.
# UNSURE: the integration type id and the property names below are not in the project's
# verified Genesys facts (shared/genesys/GENESYS.md); they are those of Genesys' own module
# github.com/GenesysCloudDevOps/aws-event-bridge-module, not checked against a live org.
resource "genesyscloud_integration" "eventbridge" {
  intended_state   = "ENABLED"
  integration_type = "amazon-eventbridge-source" # UNSURE (see above)
  config {
    name = var.integration_name
    properties = jsonencode({
      awsAccountId      = var.aws_account_id      # UNSURE property name
      awsAccountRegion  = var.aws_region          # UNSURE property name
      eventSourceSuffix = var.event_source_suffix # UNSURE property name
      eventFilter       = var.topic_filters       # UNSURE property name
    })
    advanced = jsonencode({})
    notes    = "genesys-media-bridge: events for the SQS queue or the HTTP intake"
  }
}

# The permissions of the README's "Genesys Cloud OAuth client" section, names copied as-is.
locals {
  bridge_permissions = concat(
    [
      "conversation:message:view", # or conversation:webmessaging:view (both granted)
      "conversation:webmessaging:view",
      "recording:recording:view",
      "speechAndTextAnalytics:data:view",
      "analytics:conversationDetail:view", # backfill
    ],
    var.consent_external_contact ? ["externalContacts:contact:view"] : [],
    var.notifications_all_queues ? ["routing:queue:view"] : [],
  )
  # "domain:entity" -> [actions]
  bridge_policies = {
    for p in local.bridge_permissions :
    join(":", slice(split(":", p), 0, 2)) => split(":", p)[2]...
  }
}

resource "genesyscloud_auth_role" "media_bridge" {
  name        = var.role_name
  description = "genesys-media-bridge: read messages, recordings, transcripts; backfill"
  dynamic "permission_policies" {
    for_each = local.bridge_policies
    content {
      domain      = split(":", permission_policies.key)[0]
      entity_name = split(":", permission_policies.key)[1]
      action_set  = permission_policies.value
    }
  }
}

# Client credentials: permissions come only from the role (scopes are ignored), granted on
# the divisions that hold the queues and conversations the bridge must read.
resource "genesyscloud_oauth_client" "media_bridge" {
  name                          = var.client_name
  description                   = "genesys-media-bridge workers"
  authorized_grant_type         = "CLIENT-CREDENTIALS"
  access_token_validity_seconds = 86400
  state                         = "active"
  # true puts the secret in the Terraform state (as a sensitive value); false leaves you to
  # copy it from Admin > Integrations > OAuth.
  expose_client_secret = var.expose_client_secret
  dynamic "roles" {
    for_each = length(var.division_ids) > 0 ? var.division_ids : [data.genesyscloud_auth_division_home.home.id]
    content {
      role_id     = genesyscloud_auth_role.media_bridge.id
      division_id = roles.value
    }
  }
}
