namespace Orchestrations.Workflows.Callbacks;

/// <summary>The contract between the callback handler and the orchestrations that wait for ThingSpace requests.</summary>
public static class CallbackEvents
{
    /// <summary>The external event raised into the waiting orchestration when a request's final message arrives; its payload is the request id.</summary>
    public const string RequestCompleted = "ThingSpaceRequestCompleted";
}
