// Resource-group part of main.bicep: the Function App on Flex Consumption and what it reaches.
//
// Plan: Flex Consumption (FC1) runs dotnet-isolated 10.0, scales to zero, supports Durable Functions on Azure
// Storage and virtual network integration, and deploys from a blob container with the app's identity. Elastic
// Premium is not needed: nothing here asks for deployment slots, Windows, or a warm minimum instance.
//
// Network: the app is integrated with a subnet delegated to Microsoft.App/environments (what Flex requires). That
// subnet has service endpoints for Storage and Key Vault, and both services deny every other network
// (networkAcls.defaultAction Deny, no trusted-service bypass), except operatorIpAddress when given. Service
// endpoints close the data plane as firmly as private endpoints for this app, at no cost and without private DNS
// zones; the trade-off is that the services keep a public DNS name and refuse (rather than do not route) outside
// traffic, and the operator needs an allowed IP to set secrets or browse the task hub. Flex routes the app's
// outbound traffic, Key Vault reference resolution and the deployment-package download through the integrated
// subnet. The site itself stays public: ThingSpace posts callbacks to it, and the management routes need a
// function key.
//
// Secrets (ThingSpace key/secret/username/password, API key, callback password) live in Key Vault; the app reads them
// through Key Vault references with the user-assigned identity. Nothing here holds a secret value: an operator sets
// them with `az keyvault secret set` (README "Deploy to Azure").

param location string
param tags object
@minLength(13)
@maxLength(13)
@description('uniqueString() of the subscription, environment and region.')
param resourceToken string
param principalId string
param principalType string
param operatorIpAddress string
param thingSpaceAccountName string
param thingSpaceBaseUrl string
param thingSpaceOAuthUrl string
param instanceMemoryMB int
param maximumInstanceCount int
param storageSku string

var abbrs = loadJsonContent('../abbreviations.json')
var functionAppName = '${abbrs.functionApp}orchestrations-${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'
var appSubnetName = 'app'
var operatorIpRules = empty(operatorIpAddress) ? [] : [ operatorIpAddress ]

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// A Key Vault reference: the secret's value never appears in the template, the site config or the deployment history.
func secretRef(vaultName string, secretName string) string => '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${abbrs.managedIdentity}orchestrations-${resourceToken}'
  location: location
  tags: tags
}

// The subnet is declared inside the virtual network so that a redeployment never removes it.
resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: '${abbrs.virtualNetwork}${resourceToken}'
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [ '10.0.0.0/16' ] }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: '10.0.0.0/24'
          delegations: [
            { name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } }
          ]
          serviceEndpoints: [
            { service: 'Microsoft.Storage', locations: [ location ] }
            { service: 'Microsoft.KeyVault', locations: [ '*' ] }
          ]
        }
      }
    ]
  }
}

var appSubnetId = vnet.properties.subnets[0].id

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: '${abbrs.storageAccount}${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: storageSku }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    accessTier: 'Hot'
    // 'Enabled' is what service endpoints and IP rules need; the ACL below is what closes the account.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'None'
      virtualNetworkRules: [ { id: appSubnetId, action: 'Allow' } ]
      ipRules: [for ip in operatorIpRules: { value: ip, action: 'Allow' }]
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: storage
  name: 'default'
}

// Flex Consumption deploys from this container: azd uploads the package, the platform reads it with the identity.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

// Durable Functions on Azure Storage: blobs (leases, large messages, deployment package), queues, tables.
resource storageBlobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

resource storageQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
  }
}

resource storageTableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: '${abbrs.keyVault}${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'None'
      virtualNetworkRules: [ { id: appSubnetId } ]
      ipRules: [for ip in operatorIpRules: { value: ip }]
    }
  }
}

resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

// The deployer may write the secrets (from operatorIpAddress); the app may only read them.
resource deployerVaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(vault.id, principalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${abbrs.logAnalytics}${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

// Local (instrumentation-key) authentication off: telemetry is accepted only with the identity's Entra token.
resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${abbrs.applicationInsights}${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

resource insightsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${abbrs.appServicePlan}${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

// Flex Consumption sets the runtime in functionAppConfig: no FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION or
// WEBSITE_RUN_FROM_PACKAGE settings (the plan rejects them). host.json carries the task hub name.
resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    virtualNetworkSubnetId: appSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
        { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identity.properties.clientId}' }
        { name: 'ThingSpace__BaseUrl', value: thingSpaceBaseUrl }
        { name: 'ThingSpace__OAuthUrl', value: thingSpaceOAuthUrl }
        { name: 'ThingSpace__AccountName', value: thingSpaceAccountName }
        { name: 'ThingSpace__AppKey', value: secretRef(vault.name, 'thingspace-app-key') }
        { name: 'ThingSpace__AppSecret', value: secretRef(vault.name, 'thingspace-app-secret') }
        { name: 'ThingSpace__Username', value: secretRef(vault.name, 'thingspace-username') }
        { name: 'ThingSpace__Password', value: secretRef(vault.name, 'thingspace-password') }
        { name: 'Api__Keys__0', value: secretRef(vault.name, 'api-key') }
        { name: 'Callbacks__PublicUrl', value: 'https://${functionAppName}.azurewebsites.net/api/callbacks/thingspace' }
        { name: 'Callbacks__Username', value: 'thingspace-callback' }
        { name: 'Callbacks__Password', value: secretRef(vault.name, 'callback-password') }
        { name: 'Usage__Schedule', value: '0 0 2 * * *' }
        { name: 'Ingest__Container', value: 'device-uploads' }
      ]
    }
  }
  // The identity must hold its data roles before the host first starts, or the task hub and Key Vault calls fail.
  dependsOn: [ storageBlobRole, storageQueueRole, storageTableRole, vaultRole, insightsRole ]
}

// Basic (user name and password) publishing off for FTP and for the SCM site: deployments use Entra tokens.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: { allow: false }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: { allow: false }
}

output storageAccountName string = storage.name
output keyVaultName string = vault.name
output functionAppName string = functionApp.name
output functionAppUri string = 'https://${functionApp.properties.defaultHostName}'
output callbackUrl string = 'https://${functionApp.properties.defaultHostName}/api/callbacks/thingspace'
