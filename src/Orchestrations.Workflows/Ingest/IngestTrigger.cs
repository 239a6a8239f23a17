namespace Orchestrations.Workflows.Ingest;

/// <summary>
/// The blob trigger of the device CSV ingest, as both hosts declare it: the Functions app's <c>[BlobTrigger]</c> and the
/// standalone host's container scan take this function name and path (<c>%Ingest:Container%</c> is the app setting
/// <c>Ingest__Container</c>, resolved by each host from its configuration).
/// </summary>
public static class IngestTrigger
{
    public const string FunctionName = "DeviceCsvIngest";

    public const string BlobPath = "%" + IngestOptions.SectionName + ":Container%/{name}";
}
