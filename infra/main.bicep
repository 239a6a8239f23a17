// Orchestrations in Azure: the Functions app (src/Orchestrations.Functions) on a Flex Consumption plan (FC1,
// dotnet-isolated 10.0), with a user-assigned managed identity for Azure Storage (the Durable Functions task hub
// and the deployment package), Key Vault (every secret, as Key Vault references) and Application Insights.
// Storage accepts no shared keys; storage and Key Vault accept traffic only from the app's virtual network
// (service endpoints) and, optionally, from one operator IP address.
//   azd up                      (azure.yaml; parameters from main.parameters.json and the azd environment)
//   az deployment sub create -l <region> -f infra/main.bicep -p environmentName=<env> location=<region> ...
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd: AZURE_ENV_NAME); used in resource names and tags.')
param environmentName string

@minLength(1)
@description('Azure region of every resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person or pipeline running the deployment (azd: AZURE_PRINCIPAL_ID); it may set Key Vault secrets. Empty: no assignment.')
param principalId string = ''

@description('Kind of principalId.')
@allowed([ 'User', 'ServicePrincipal', 'Group' ])
param principalType string = 'User'

@description('Public IPv4 address (or CIDR range) from which the operator sets Key Vault secrets and reads storage. Empty: only the app\'s subnet gets in.')
param operatorIpAddress string = ''

@description('ThingSpace billing account, e.g. 0000123456-00001.')
param thingSpaceAccountName string

@description('ThingSpace API base URL.')
param thingSpaceBaseUrl string = 'https://thingspace.verizon.com/api'

@description('ThingSpace OAuth token endpoint.')
param thingSpaceOAuthUrl string = 'https://thingspace.verizon.com/api/ts/v1/oauth2/token'

@description('Memory of each Flex Consumption instance, in MB (2048 holds a 10,000-device chunk comfortably).')
@allowed([ 512, 2048, 4096 ])
param instanceMemoryMB int = 2048

@description('Most instances Flex Consumption scales out to (40 is the smallest the plan takes; ThingSpace rate-limits, so more rarely helps).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

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
    principalId: principalId
    principalType: principalType
    operatorIpAddress: operatorIpAddress
    thingSpaceAccountName: thingSpaceAccountName
    thingSpaceBaseUrl: thingSpaceBaseUrl
    thingSpaceOAuthUrl: thingSpaceOAuthUrl
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    storageSku: storageSku
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_STORAGE_ACCOUNT_NAME string = app.outputs.storageAccountName
output AZURE_KEY_VAULT_NAME string = app.outputs.keyVaultName
output AZURE_FUNCTION_APP_NAME string = app.outputs.functionAppName
output SERVICE_API_NAME string = app.outputs.functionAppName
output SERVICE_API_URI string = app.outputs.functionAppUri
output CALLBACK_URL string = app.outputs.callbackUrl
