// Orchestrations in Azure: the host as a Linux App Service web app that reaches Azure Storage, Key Vault and
// Application Insights with a user-assigned managed identity. Storage accepts no shared keys.
//   az deployment sub create -l <region> -f infra/main.bicep -p infra/main.parameters.json
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd: AZURE_ENV_NAME); used in resource names and tags.')
param environmentName string

@minLength(1)
@description('Azure region of every resource.')
param location string

@description('ThingSpace billing account, e.g. 0000123456-00001.')
param thingSpaceAccountName string

@description('ThingSpace API base URL.')
param thingSpaceBaseUrl string = 'https://thingspace.verizon.com/api'

@description('ThingSpace OAuth token endpoint.')
param thingSpaceOAuthUrl string = 'https://thingspace.verizon.com/api/ts/v1/oauth2/token'

@description('App Service plan SKU (P0v3 or larger keeps Always On and enough memory for 10,000-device jobs).')
param appServicePlanSku string = 'P0v3'

@description('Storage redundancy.')
@allowed([ 'Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS' ])
param storageSku string = 'Standard_ZRS'

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourceGroup}${environmentName}'
  location: location
  tags: tags
}

module app 'app/resources.bicep' = {
  name: 'orchestrations-resources'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    thingSpaceAccountName: thingSpaceAccountName
    thingSpaceBaseUrl: thingSpaceBaseUrl
    thingSpaceOAuthUrl: thingSpaceOAuthUrl
    appServicePlanSku: appServicePlanSku
    storageSku: storageSku
  }
}

output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_STORAGE_ACCOUNT_NAME string = app.outputs.storageAccountName
output AZURE_KEY_VAULT_NAME string = app.outputs.keyVaultName
output SERVICE_API_URI string = app.outputs.webAppUri
output CALLBACK_URL string = app.outputs.callbackUrl
