using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using Microsoft.Extensions.Configuration;

namespace Orchestrations.Durable.Storage;

/// <summary>
/// The Azure Storage account the durable engine and the app use, described the way the Functions host reads
/// <c>AzureWebJobsStorage</c>: either a connection string (Azurite, shared key) or identity-based settings
/// (<c>AzureWebJobsStorage__accountName</c> or the three <c>__*ServiceUri</c> values, with a managed identity).
/// </summary>
public sealed class StorageAccount
{
    /// <summary>The conventional configuration key of the host's storage connection.</summary>
    public const string DefaultConnectionName = "AzureWebJobsStorage";

    private readonly string? _connectionString;
    private readonly TokenCredential? _credential;

    private StorageAccount(string connectionString)
    {
        _connectionString = connectionString;
        // Parse once to fail fast with a clear message instead of on the first request.
        TableServiceClient probe = new(connectionString);
        BlobServiceUri = new BlobServiceClient(connectionString).Uri;
        QueueServiceUri = new QueueServiceClient(connectionString).Uri;
        TableServiceUri = probe.Uri;
        AccountName = probe.AccountName;
    }

    private StorageAccount(Uri blobServiceUri, Uri queueServiceUri, Uri tableServiceUri, TokenCredential credential)
    {
        BlobServiceUri = blobServiceUri;
        QueueServiceUri = queueServiceUri;
        TableServiceUri = tableServiceUri;
        _credential = credential;
        AccountName = blobServiceUri.Host.Split('.')[0];
    }

    public string AccountName { get; }

    public Uri BlobServiceUri { get; }

    public Uri QueueServiceUri { get; }

    public Uri TableServiceUri { get; }

    /// <summary>True when the account is reached with a managed identity rather than a shared key.</summary>
    public bool UsesIdentity => _credential is not null;

    public static StorageAccount FromConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        try
        {
            return new StorageAccount(connectionString);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            // The connection string holds the account key: never echo it.
            throw new InvalidOperationException(
                "The storage connection string could not be parsed. Expected 'UseDevelopmentStorage=true' or " +
                "'DefaultEndpointsProtocol=...;AccountName=...;AccountKey=...;...'.", ex);
        }
    }

    public static StorageAccount FromServiceUris(Uri blobServiceUri, Uri queueServiceUri, Uri tableServiceUri, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(blobServiceUri);
        ArgumentNullException.ThrowIfNull(queueServiceUri);
        ArgumentNullException.ThrowIfNull(tableServiceUri);
        ArgumentNullException.ThrowIfNull(credential);
        return new StorageAccount(blobServiceUri, queueServiceUri, tableServiceUri, credential);
    }

    /// <summary>
    /// Reads a connection named <paramref name="name"/> the way the Functions host does: a plain value is a
    /// connection string; a section with <c>accountName</c> or <c>blobServiceUri</c>/<c>queueServiceUri</c>/<c>tableServiceUri</c>
    /// is an identity-based connection (<c>clientId</c> selects a user-assigned managed identity).
    /// </summary>
    public static StorageAccount FromConfiguration(IConfiguration configuration, string name = DefaultConnectionName)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? connectionString = configuration[name] ?? configuration.GetConnectionString(name);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return FromConnectionString(connectionString);
        }

        IConfigurationSection section = configuration.GetSection(name);
        string? accountName = section["accountName"];
        Uri? blob = ReadUri(section, "blobServiceUri", name) ?? ServiceUri(accountName, "blob");
        Uri? queue = ReadUri(section, "queueServiceUri", name) ?? ServiceUri(accountName, "queue");
        Uri? table = ReadUri(section, "tableServiceUri", name) ?? ServiceUri(accountName, "table");
        if (blob is null || queue is null || table is null)
        {
            throw new InvalidOperationException(
                $"Storage connection '{name}' is not configured. Set '{name}' to a connection string " +
                $"(e.g. 'UseDevelopmentStorage=true' for Azurite) or set '{name}__accountName' " +
                $"(or '{name}__blobServiceUri', '{name}__queueServiceUri' and '{name}__tableServiceUri') to use a managed identity.");
        }

        string? clientId = section["clientId"];
        TokenCredential credential = string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
        return FromServiceUris(blob, queue, table, credential);
    }

    public BlobServiceClient CreateBlobServiceClient(BlobClientOptions? options = null) =>
        _credential is null
            ? new BlobServiceClient(_connectionString, options)
            : new BlobServiceClient(BlobServiceUri, _credential, options);

    public QueueServiceClient CreateQueueServiceClient(QueueClientOptions? options = null) =>
        _credential is null
            ? new QueueServiceClient(_connectionString, options)
            : new QueueServiceClient(QueueServiceUri, _credential, options);

    public TableServiceClient CreateTableServiceClient(TableClientOptions? options = null) =>
        _credential is null
            ? new TableServiceClient(_connectionString, options)
            : new TableServiceClient(TableServiceUri, _credential, options);

    /// <summary>The account as the Durable Task Framework's Azure Storage provider takes it, with the given client options.</summary>
    internal StorageAccountClientProvider CreateClientProvider(BlobClientOptions blobOptions, QueueClientOptions queueOptions, TableClientOptions tableOptions) =>
        _credential is null
            ? new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(_connectionString!, blobOptions),
                StorageServiceClientProvider.ForQueue(_connectionString!, queueOptions),
                StorageServiceClientProvider.ForTable(_connectionString!, tableOptions))
            : new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(BlobServiceUri, _credential, blobOptions),
                StorageServiceClientProvider.ForQueue(QueueServiceUri, _credential, queueOptions),
                StorageServiceClientProvider.ForTable(TableServiceUri, _credential, tableOptions));

    private static Uri? ServiceUri(string? accountName, string service) =>
        string.IsNullOrWhiteSpace(accountName) ? null : new Uri($"https://{accountName}.{service}.core.windows.net");

    private static Uri? ReadUri(IConfigurationSection section, string key, string name)
    {
        string? value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out Uri? uri)
            ? uri
            : throw new InvalidOperationException($"Setting '{name}__{key}' is not an absolute URI: '{value}'.");
    }
}
