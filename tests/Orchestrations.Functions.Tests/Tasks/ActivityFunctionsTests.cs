using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using Orchestrations.Functions.Tasks;
using Orchestrations.Testing;
using Orchestrations.ThingSpace;
using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows;
using Orchestrations.Workflows.Provisioning.Activities;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Verification;

namespace Orchestrations.Functions.Tests.Tasks;

public sealed class ActivityFunctionsTests
{
    private static IEnumerable<MethodInfo> ActivityFunctionMethods() =>
        FunctionsAppRegistrationTests.FunctionMethods().Where(m => m.GetParameters().Any(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null));

    public static TheoryData<string> ActivityFunctionNames() => [.. ActivityFunctionMethods().Select(FunctionInvoker.FunctionName)];

    private static Mock<FunctionContext> FunctionContextOver(IServiceProvider services)
    {
        Mock<FunctionContext> context = new();
        context.SetupGet(c => c.InstanceServices).Returns(services);
        return context;
    }

    [Fact]
    public void ActivityFunctions_OnePerActivityOfTheLibrary()
    {
        Assert.Equal(WorkflowTasks.Activities.Select(t => t.Name).Order(), ActivityFunctionMethods().Select(FunctionInvoker.FunctionName).Order());
    }

    [Theory]
    [MemberData(nameof(ActivityFunctionNames))]
    public async Task ActivityFunction_Invoked_ResolvesTheActivityClassOfItsNameFromTheInvocationScope(string functionName)
    {
        MethodInfo method = ActivityFunctionMethods().Single(m => FunctionInvoker.FunctionName(m) == functionName);
        RecordingServiceProvider services = new();

        // Nothing is registered, so the wrapper stops at the first resolution; what it asked for is the activity it runs.
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            FunctionInvoker.InvokeAsync(method, null, null, "job-1", FunctionContextOver(services).Object));

        Type requested = Assert.Single(services.Requested);
        Assert.Equal(functionName, requested.Name);
        Assert.Contains(requested, WorkflowTasks.Activities);
    }

    [Fact]
    public async Task RunActivityAsync_PassesInputAndAContextNamedAfterTheClassWithTheOrchestrationInstanceId()
    {
        RecordingActivity activity = new();
        ServiceCollection collection = new();
        collection.AddSingleton(activity);
        await using ServiceProvider services = collection.BuildServiceProvider();

        string output = await DurableTaskAdapter.RunActivityAsync<RecordingActivity, string, string>("payload", "job-7", FunctionContextOver(services).Object);

        Assert.Equal("done:payload", output);
        Assert.Equal((nameof(RecordingActivity), "job-7"), (activity.Context!.Name.Name, activity.Context.InstanceId));
    }

    [Fact]
    public async Task VerifyDevicesFunction_RunsTheLibraryActivityWithItsInput()
    {
        DeviceId imei = new() { Kind = "imei", Id = TestIdentifiers.Imei("35693803", 1) };
        DeviceId iccid = new() { Kind = "iccid", Id = TestIdentifiers.Iccid("891480000", 1) };
        Mock<IThingSpaceClient> thingSpace = new(MockBehavior.Strict);
        thingSpace.Setup(t => t.ListDevicesInformationAsync(
                It.Is<AccountDeviceListRequest>(r => r.AccountName == "0000123456-00001" && r.DeviceId == imei), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new AccountDeviceListResult
            {
                Devices = [new ThingSpaceDevice { DeviceIds = [imei, iccid], CarrierInformations = [new CarrierInformation { State = "active", ServicePlan = "m2m4G" }] }],
            });
        ServiceCollection collection = new();
        collection.AddSingleton(thingSpace.Object);
        collection.AddLogging(); // as the Functions host registers it
        collection.AddTransient<DeviceLister>();
        collection.AddTransient<VerifyDevices>();
        await using ServiceProvider services = collection.BuildServiceProvider();

        IReadOnlyList<VerifiedDevice> verified = await ActivityFunctions.VerifyDevices(
            new VerifyDevicesInput("0000123456-00001", null, [new JobDevice([imei, iccid])]), "job-1", FunctionContextOver(services).Object);

        VerifiedDevice device = Assert.Single(verified);
        Assert.Equal(("active", "m2m4G"), (device.State, device.ServicePlan));
        thingSpace.VerifyAll();
    }

    private sealed class RecordingServiceProvider : IServiceProvider
    {
        public List<Type> Requested { get; } = [];

        public object? GetService(Type serviceType)
        {
            Requested.Add(serviceType);
            return null;
        }
    }

    private sealed class RecordingActivity : TaskActivity<string, string>
    {
        public TaskActivityContext? Context { get; private set; }

        public override Task<string> RunAsync(TaskActivityContext context, string input)
        {
            Context = context;
            return Task.FromResult("done:" + input);
        }
    }
}
