namespace Orchestrations.Workflows.Tests;

/// <summary>Table names of one test: its own tables in the shared Azurite, so tests never see each other's rows.</summary>
internal static class TestStorage
{
    public static WorkflowStorageOptions Unique()
    {
        string suffix = Guid.NewGuid().ToString("N")[..12];
        return new WorkflowStorageOptions
        {
            CallbacksTable = "cb" + suffix,
            CallbackRoutesTable = "rt" + suffix,
            SubmissionsTable = "sub" + suffix,
            OutcomesTable = "out" + suffix,
            ReportContainer = "rep-" + suffix,
        };
    }
}
